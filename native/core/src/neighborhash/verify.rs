//! Invariants I1-I4 and APCL, the average number of 64-byte
//! cache lines a hit touches.

use super::*;

fn err(i: usize, what: String) -> String {
    format!("slot {i}: {what}")
}

/// Check I1-I4 for a table holding exactly `expected_keys` keys (plus the
/// decoy or key 0 in the reserved slot). Returns the first violation.
pub fn verify(t: &Table, expected_keys: usize) -> std::result::Result<(), String> {
    let cap = t.slots.len();
    if !cap.is_power_of_two() || cap < 8 {
        return Err(format!("capacity {cap} is not a power of two >= 8"));
    }
    let z = t.home(0);
    let zk = t.slots[z].key;
    if zk != 0 && t.home(zk) == z {
        return Err(err(z, format!("the reserved slot holds key {zk}, whose home is the reserved slot (not a decoy)")));
    }
    let mut members = 0usize;
    for i in 0..cap {
        let s = t.slots[i];
        if i != z && s.key == 0 {
            if s.word != 0 {
                return Err(err(i, "free slot with a non-zero value word (I4)".into()));
            }
            continue;
        }
        let is_head = i == z || t.home(s.key) == i;
        if !is_head {
            let h = t.home(s.key);
            let hs = t.slots[h];
            if h != z && (hs.key == 0 || t.home(hs.key) != h) {
                return Err(err(i, format!("key {} lives off home {h}, which is not its chain head (I1)", s.key)));
            }
            continue;
        }
        // I2/I3: walk the chain; every member homes here; deltas stay in range
        let mut j = i;
        let mut steps = 0usize;
        loop {
            let m = t.slots[j];
            if j == z {
                if i != z {
                    return Err(err(j, format!("the chain of home {i} runs through the reserved slot (I2)")));
                }
                members += (m.key == 0) as usize; // key 0 is stored; a decoy is not a member
            } else if t.home(m.key) != i {
                return Err(err(j, format!("key {} is on the chain of home {i} but homes at {} (I2)", m.key, t.home(m.key))));
            } else {
                members += 1;
            }
            let d = m.next();
            if d == 0 {
                break;
            }
            if d.abs() > MAX_DELTA {
                return Err(err(j, format!("link delta {d} out of range (I3)")));
            }
            let n = j as i64 + d;
            if n < 0 || n >= cap as i64 {
                return Err(err(j, format!("link leaves the table to {n} (I3)")));
            }
            j = n as usize;
            steps += 1;
            if steps > cap {
                return Err(err(i, "chain loops (I2)".into()));
            }
        }
    }
    if members != expected_keys {
        return Err(format!("chains hold {members} keys, expected {expected_keys} (a key is unreachable or on two chains, I2)"));
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Apcl {
    /// Average distinct cache lines touched per hit lookup.
    pub lines: f64,
    /// Average slots compared per hit lookup.
    pub probes: f64,
    pub keys: usize,
}

/// APCL over every stored key (walk from home to the key).
pub fn apcl(t: &Table) -> Apcl {
    let z = t.home(0);
    let (mut lines, mut probes, mut keys) = (0usize, 0usize, 0usize);
    for i in 0..t.slots.len() {
        let k = t.slots[i].key;
        if (i != z && k == 0) || (i == z && k != 0) {
            continue; // free, or the decoy
        }
        let mut j = t.home(k);
        let mut line = usize::MAX;
        loop {
            probes += 1;
            if j / SLOTS_PER_LINE != line {
                lines += 1;
                line = j / SLOTS_PER_LINE;
            }
            if t.slots[j].key == k {
                break;
            }
            j = (j as i64 + t.slots[j].next()) as usize;
        }
        keys += 1;
    }
    let n = keys.max(1) as f64;
    Apcl { lines: lines as f64 / n, probes: probes as f64 / n, keys }
}
