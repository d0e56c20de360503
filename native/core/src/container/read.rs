//! Opening a container: the structure (header, footer, table) is checked on
//! open; the bytes are mapped (or read, see `Backing`); a section's checksum is
//! checked when it is read or viewed checked. Unchecked views are for the large
//! sections a reader only samples: touching every page to check them would cost
//! what mapping saves, and `verify` checks them.

use super::backing::{Backing, FileBytes, Section};
use super::verify::{read_layout, section_name};
use super::{Header, SectionEntry};
use crate::checksum::crc32c;
use crate::error::{Error, Result};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub struct Container {
    path: PathBuf,
    data: Arc<FileBytes>,
    pub header: Header,
    pub sections: Vec<SectionEntry>,
}

impl std::fmt::Debug for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Container").field("path", &self.path).field("header", &self.header).field("sections", &self.sections).finish()
    }
}

impl Container {
    pub fn open(path: &Path) -> Result<Container> {
        Container::open_with(path, Backing::Map)
    }

    pub fn open_with(path: &Path, backing: Backing) -> Result<Container> {
        let file = File::open(path).map_err(|e| Error::io(path, "open", e))?;
        let lay = read_layout(&file, path)?;
        if let Some(first) = lay.problems.into_iter().next() {
            return Err(first.into_error(path));
        }
        let header = lay.header.expect("no problems implies a header");
        let f = &header.fields;
        if f.shard_count > 0 && f.shard >= f.shard_count {
            return Err(Error::Corrupt {
                path: path.display().to_string(),
                offset: 44,
                length: 8,
                message: format!("header: shard {} of {} is out of range", f.shard, f.shard_count),
            });
        }
        let data = Arc::new(FileBytes::open(&file, path, lay.len, backing)?);
        Ok(Container { path: path.to_path_buf(), data, header, sections: lay.sections })
    }

    /// Open and insist on a file kind and a format major this reader knows.
    pub fn open_kind(path: &Path, kind: u16, max_major: u16) -> Result<Container> {
        Container::open_kind_with(path, kind, max_major, Backing::Map)
    }

    pub fn open_kind_with(path: &Path, kind: u16, max_major: u16, backing: Backing) -> Result<Container> {
        let c = Container::open_with(path, backing)?;
        let f = &c.header.fields;
        let p = path.display().to_string();
        if f.kind != kind {
            return Err(Error::UnsupportedFormat { path: p, message: format!("file kind is {}, expected {kind}", f.kind) });
        }
        if f.major > max_major {
            return Err(Error::UnsupportedFormat {
                path: p,
                message: format!("format {}.{} is newer than this build reads (up to {max_major}.x); upgrade recall", f.major, f.minor),
            });
        }
        Ok(c)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn find(&self, kind: u32) -> Option<(usize, &SectionEntry)> {
        self.sections.iter().enumerate().find(|(_, s)| s.kind == kind)
    }

    fn view(&self, s: &SectionEntry) -> Section {
        // The layout check on open put every section inside the file.
        Section::new(self.data.clone(), s.offset as usize, s.length as usize)
    }

    fn check(&self, i: usize, s: &SectionEntry, bytes: &[u8]) -> Result<()> {
        if crc32c(bytes) != s.crc {
            return Err(Error::Corrupt {
                path: self.path.display().to_string(),
                offset: s.offset,
                length: s.length,
                message: format!("{}: checksum mismatch", section_name(i, s)),
            });
        }
        Ok(())
    }

    /// The bytes of the first section of `kind`, checksum-checked, as a view (no copy).
    pub fn section(&self, kind: u32) -> Result<Option<Section>> {
        let Some((i, s)) = self.find(kind) else { return Ok(None) };
        let v = self.view(s);
        self.check(i, s, &v)?;
        Ok(Some(v))
    }

    /// The first section of `kind` as a view whose checksum is not checked here (`verify` does).
    pub fn section_unchecked(&self, kind: u32) -> Option<Section> {
        self.find(kind).map(|(_, s)| self.view(s))
    }

    /// The bytes of the first section of `kind`, checksum-checked, copied out.
    pub fn read_section(&self, kind: u32) -> Result<Option<Vec<u8>>> {
        Ok(self.section(kind)?.map(|v| v.to_vec()))
    }
}
