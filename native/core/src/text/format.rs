//! The text index's format: section kinds and their labels, flags, layout constants, pair
//! kinds and the doc-length table. Shared by the build and the readers (neither imports
//! the other).

pub const MAJOR: u16 = 1;
pub const MINOR: u16 = 0;

pub const SECTION_FIELDS: u32 = 16;
pub const SECTION_DICT_INDEX: u32 = 17;
pub const SECTION_DICT_BLOCKS: u32 = 18;
pub const SECTION_POSTINGS: u32 = 19;
pub const SECTION_DOC_LENS: u32 = 20;
pub const SECTION_FORWARD: u32 = 21;
pub const SECTION_PAIR_DICT: u32 = 22;
pub const SECTION_PAIR_POSTINGS: u32 = 23;
pub const SECTION_EXT_IDS: u32 = 24;
pub const SECTION_TOMBSTONES: u32 = 25;

pub const FLAG_FREQS: u32 = 1;
pub const FLAG_FORWARD: u32 = 1 << 2;
pub const FLAG_PAIRS: u32 = 1 << 3;
pub const FLAG_EXT_ID_U64: u32 = 1 << 5;
pub const FLAG_EXT_ID_STR: u32 = 1 << 6;
pub const FLAG_TOMBSTONES: u32 = 1 << 7;

pub const TERMS_PER_DICT_BLOCK: usize = 64;
pub const SKIP_ENTRY: usize = 12;
pub const PAIR_SKIP_ENTRY: usize = 16;
/// Highest internal doc id + 1 (N <= 2^31 - 1).
pub const MAX_DOCS: usize = (1 << 31) - 1;
/// The end-of-list doc id of iterators.
pub const NO_MORE: u32 = u32::MAX;

/// Pair kinds in PAIR_DICT.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PairKind {
    Off = 0,
    Cooc = 1,
    Adjacent = 2,
}

impl PairKind {
    pub fn parse(s: &str) -> Option<PairKind> {
        match s {
            "off" => Some(PairKind::Off),
            "cooc" => Some(PairKind::Cooc),
            "adjacent" => Some(PairKind::Adjacent),
            _ => None,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            PairKind::Off => "off",
            PairKind::Cooc => "cooc",
            PairKind::Adjacent => "adjacent",
        }
    }
}

/// The v1 DOC_LENS table: exact below 48, then steps of at most 6.25%.
pub fn len_table() -> [u32; 256] {
    let mut t = [0u32; 256];
    for c in 1..256 {
        t[c] = if c < 48 { c as u32 } else { (t[c - 1] + 1).max((t[c - 1] as u64 * 17 / 16) as u32) };
    }
    t
}

/// `max { c : table[c] <= len }`.
pub fn len_code(table: &[u32; 256], len: u32) -> u8 {
    match table.binary_search(&len) {
        Ok(i) => i as u8,
        Err(i) => (i - 1) as u8,
    }
}

/// Saturated max tf of a block or list (255 means ">= 255").
pub fn tf_sat(tf: u32) -> u8 {
    tf.min(255) as u8
}

pub fn section_label(kind: u32) -> &'static str {
    match kind {
        SECTION_FIELDS => "fields",
        SECTION_DICT_INDEX => "dict-index",
        SECTION_DICT_BLOCKS => "dict-blocks",
        SECTION_POSTINGS => "postings",
        SECTION_DOC_LENS => "doc-lens",
        SECTION_FORWARD => "forward",
        SECTION_PAIR_DICT => "pair-dict",
        SECTION_PAIR_POSTINGS => "pair-postings",
        SECTION_EXT_IDS => "ext-ids",
        SECTION_TOMBSTONES => "tombstones",
        _ => "other",
    }
}

/// The planner uses a pair list when it is shorter than this fraction of its shorter term's list.
pub const PAIR_MAX_FRACTION: f64 = 0.9;
