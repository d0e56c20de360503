//! Streaming container writer: sections are written as they are produced
//! (a vector section may be gigabytes), checksummed on the way, and the file
//! appears under its name only after `finish` (temp name, fsync, rename).

use super::{ALIGN, Footer, HEADER_LEN, Header, HeaderFields, SectionEntry, align_up};
use crate::checksum::crc32c_update;
use crate::error::{Error, Result};
use crate::fsutil::AtomicFile;
use std::path::Path;

pub struct ContainerWriter {
    file: AtomicFile,
    fields: HeaderFields,
    sections: Vec<SectionEntry>,
    pos: u64,
    open: Option<SectionEntry>,
}

impl ContainerWriter {
    pub fn create(path: &Path, fields: HeaderFields) -> Result<Self> {
        if fields.shard_count > 0 && fields.shard >= fields.shard_count {
            return Err(Error::InvalidArgument(format!("shard {} is out of range for {} shards", fields.shard, fields.shard_count)));
        }
        let mut file = AtomicFile::create(path)?;
        file.write_all(&[0u8; HEADER_LEN as usize])?; // filled in by finish()
        Ok(ContainerWriter { file, fields, sections: Vec::new(), pos: HEADER_LEN, open: None })
    }

    pub fn begin_section(&mut self, kind: u32, version: u32) -> Result<()> {
        if self.open.is_some() {
            return Err(Error::InvalidArgument("begin_section while another section is open".into()));
        }
        if self.sections.iter().any(|s| s.kind == kind) {
            return Err(Error::InvalidArgument(format!("section kind {kind} written twice")));
        }
        self.open = Some(SectionEntry { kind, version, offset: self.pos, length: 0, crc: 0 });
        Ok(())
    }

    pub fn write(&mut self, data: &[u8]) -> Result<()> {
        let s = self.open.as_mut().ok_or_else(|| Error::InvalidArgument("write outside a section".into()))?;
        s.crc = crc32c_update(s.crc, data);
        s.length += data.len() as u64;
        self.pos += data.len() as u64;
        self.file.write_all(data)
    }

    pub fn end_section(&mut self) -> Result<()> {
        let s = self.open.take().ok_or_else(|| Error::InvalidArgument("end_section without a section".into()))?;
        self.sections.push(s);
        self.pad()
    }

    pub fn add_section(&mut self, kind: u32, version: u32, data: &[u8]) -> Result<()> {
        self.begin_section(kind, version)?;
        self.write(data)?;
        self.end_section()
    }

    fn pad(&mut self) -> Result<()> {
        let to = align_up(self.pos);
        if to > self.pos {
            self.file.write_all(&[0u8; ALIGN as usize][..(to - self.pos) as usize])?;
            self.pos = to;
        }
        Ok(())
    }

    /// Write table, footer and header, then publish the file. Returns its length.
    pub fn finish(mut self) -> Result<u64> {
        if self.open.is_some() {
            return Err(Error::InvalidArgument("finish with a section still open".into()));
        }
        let table_offset = self.pos;
        let mut table = Vec::with_capacity(self.sections.len() * 32);
        for s in &self.sections {
            table.extend_from_slice(&s.encode());
        }
        let table_crc = crate::checksum::crc32c(&table);
        let header = Header { fields: self.fields.clone(), section_count: self.sections.len() as u32, table_offset, table_crc };
        let footer = Footer { file_length: header.file_length(), table_offset, table_crc, section_count: header.section_count };
        self.file.write_all(&table)?;
        self.file.write_all(&footer.encode())?;
        self.file.write_at(0, &header.encode())?;
        self.file.commit()?;
        Ok(footer.file_length)
    }
}

/// Write a whole container from in-memory sections `(kind, version, bytes)`.
pub fn write_container(path: &Path, fields: HeaderFields, sections: &[(u32, u32, &[u8])]) -> Result<u64> {
    let mut w = ContainerWriter::create(path, fields)?;
    for &(kind, version, data) in sections {
        w.add_section(kind, version, data)?;
    }
    w.finish()
}
