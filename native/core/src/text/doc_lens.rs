//! The DOC_LENS section read at open: the 256-entry length table, then one length code per
//! document and field, field-major (`F * N`).

use super::codec::u32_at;

pub struct DocLens {
    n: usize,
    pub table: [u32; 256],
    codes: Vec<u8>,
}

impl DocLens {
    /// None when the section is not the table plus `fields` x `n` codes.
    pub fn parse(lens: &[u8], fields: usize, n: u32) -> Option<DocLens> {
        if lens.len() != 1024 + fields * n as usize {
            return None;
        }
        let mut table = [0u32; 256];
        for (i, v) in table.iter_mut().enumerate() {
            *v = u32_at(lens, 4 * i);
        }
        Some(DocLens { n: n as usize, table, codes: lens[1024..].to_vec() })
    }

    /// The codes of one field, one per document.
    #[inline]
    pub fn codes(&self, field: usize) -> &[u8] {
        &self.codes[field * self.n..(field + 1) * self.n]
    }

    pub fn bytes(&self) -> usize {
        self.codes.len()
    }
}
