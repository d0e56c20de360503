//! Helpers for the unit tests of every module.

use std::fs;
use std::path::PathBuf;

/// A fresh, empty folder under the temp dir, unique to this process and `name`.
pub fn scratch(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("recall-core-{}-{name}", std::process::id()));
    let _ = fs::remove_dir_all(&d);
    fs::create_dir_all(&d).unwrap();
    d
}

/// Re-seal a container after its bytes were edited (as a writer bug or a bad copy would): every
/// section CRC, the table CRC (header and footer) and the header CRC recomputed from the table.
pub fn reseal(b: &mut [u8]) {
    use crate::bytes::{u32_at, u64_at};
    use crate::checksum::crc32c;
    let count = u32_at(b, 20) as usize;
    let table = u64_at(b, 24) as usize;
    for i in 0..count {
        let e = table + 32 * i;
        let (off, len) = (u64_at(b, e + 8) as usize, u64_at(b, e + 16) as usize);
        let crc = crc32c(&b[off..off + len]);
        b[e + 24..e + 28].copy_from_slice(&crc.to_le_bytes());
    }
    let tcrc = crc32c(&b[table..table + 32 * count]);
    b[52..56].copy_from_slice(&tcrc.to_le_bytes());
    let f = b.len() - 32;
    b[f + 16..f + 20].copy_from_slice(&tcrc.to_le_bytes());
    let hcrc = crc32c(&b[0..60]);
    b[60..64].copy_from_slice(&hcrc.to_le_bytes());
}

/// A small xorshift generator for fault tests (seeded, no crates).
pub struct Rng(pub u64);
impl Rng {
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Edit 1-4 random bytes of one section of kind in `kinds` (or 8 bytes as one random u64 word,
/// or a small integer, the likeliest writer bugs), then re-seal. Returns a description.
pub fn resealed_edit(orig: &[u8], kinds: &[u32], rng: &mut Rng) -> (Vec<u8>, String) {
    use crate::bytes::{u32_at, u64_at};
    let mut b = orig.to_vec();
    let count = u32_at(&b, 20) as usize;
    let table = u64_at(&b, 24) as usize;
    let entries: Vec<(u32, usize, usize)> = (0..count)
        .map(|i| {
            let e = table + 32 * i;
            (u32_at(&b, e), u64_at(&b, e + 8) as usize, u64_at(&b, e + 16) as usize)
        })
        .filter(|(k, _, len)| kinds.contains(k) && *len > 0)
        .collect();
    let (kind, off, len) = entries[rng.below(entries.len() as u64) as usize];
    let at = off + rng.below(len as u64) as usize;
    let what = match rng.below(3) {
        0 => {
            let n = 1 + rng.below(4) as usize;
            for j in 0..n.min(off + len - at) {
                b[at + j] = rng.below(256) as u8;
            }
            format!("{n} byte(s)")
        }
        1 if at + 8 <= off + len => {
            let w = at - (at - off) % 8;
            let v = if rng.below(2) == 0 { rng.below(1 << 20) } else { rng.below(u64::MAX) };
            b[w..w + 8].copy_from_slice(&v.to_le_bytes());
            format!("word at {w} = {v}")
        }
        _ => {
            b[at] ^= 1 << rng.below(8);
            "one bit".to_string()
        }
    };
    reseal(&mut b);
    (b, format!("section kind {kind}: {what} at {at}"))
}

/// Resident KiB of this process's mapping that holds `addr` (`/proc/self/smaps`): what the
/// kernel counts in the process's memory for one mapped file, whatever other tests map meanwhile.
pub fn mapping_rss_kib(addr: usize) -> usize {
    let smaps = fs::read_to_string("/proc/self/smaps").expect("/proc/self/smaps");
    let mut inside = false;
    for line in smaps.lines() {
        let range = line.split_whitespace().next().unwrap_or("");
        if let Some((a, b)) = range.split_once('-')
            && let (Ok(a), Ok(b)) = (usize::from_str_radix(a, 16), usize::from_str_radix(b, 16))
        {
            inside = (a..b).contains(&addr);
        } else if inside && let Some(kb) = line.strip_prefix("Rss:") {
            return kb.trim().trim_end_matches(" kB").trim().parse().expect("Rss kB");
        }
    }
    panic!("no mapping holds {addr:#x}")
}
