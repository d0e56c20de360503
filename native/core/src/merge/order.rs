//! The order of ids in every merged list: ties are broken by the id's decimal text, which is how
//! the TypeScript merge compares the string ids it holds.

use std::cmp::Ordering;

/// The decimal text of `x` (as JavaScript's String() writes it), in `buf`.
pub fn decimal(x: i64, buf: &mut [u8; 20]) -> &[u8] {
    let mut v = x.unsigned_abs();
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    if x < 0 {
        i -= 1;
        buf[i] = b'-';
    }
    &buf[i..]
}

/// `a` against `b` as their decimal texts compare.
pub fn cmp_decimal(a: i64, b: i64) -> Ordering {
    if a == b {
        return Ordering::Equal;
    }
    let (mut x, mut y) = ([0u8; 20], [0u8; 20]);
    decimal(a, &mut x).cmp(decimal(b, &mut y))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_compare_as_their_decimal_text() {
        let ids = [0i64, 9, 10, -1, -20, 100, i64::MIN, i64::MAX, 7, 70, 1234567890123];
        for &a in &ids {
            for &b in &ids {
                assert_eq!(cmp_decimal(a, b), a.to_string().cmp(&b.to_string()), "{a} vs {b}");
            }
        }
    }
}
