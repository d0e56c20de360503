//! Opening a container: the structure (header, footer, table) is checked on
//! open; a section's checksum is checked whenever it is read.

use super::verify::{read_layout, section_name};
use super::{Header, SectionEntry};
use crate::checksum::crc32c;
use crate::error::{Error, Result};
use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

#[derive(Debug)]
pub struct Container {
    path: PathBuf,
    file: File,
    pub header: Header,
    pub sections: Vec<SectionEntry>,
}

impl Container {
    pub fn open(path: &Path) -> Result<Container> {
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
        Ok(Container { path: path.to_path_buf(), file, header, sections: lay.sections })
    }

    /// Open and insist on a file kind and a format major this reader knows.
    pub fn open_kind(path: &Path, kind: u16, max_major: u16) -> Result<Container> {
        let c = Container::open(path)?;
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

    /// The bytes of the first section of `kind`, checksum-checked.
    pub fn read_section(&self, kind: u32) -> Result<Option<Vec<u8>>> {
        let Some((i, s)) = self.sections.iter().enumerate().find(|(_, s)| s.kind == kind) else {
            return Ok(None);
        };
        let mut buf = vec![0u8; s.length as usize];
        self.file.read_exact_at(&mut buf, s.offset).map_err(|e| Error::io(&self.path, "read", e))?;
        if crc32c(&buf) != s.crc {
            return Err(Error::Corrupt {
                path: self.path.display().to_string(),
                offset: s.offset,
                length: s.length,
                message: format!("{}: checksum mismatch", section_name(i, s)),
            });
        }
        Ok(Some(buf))
    }
}
