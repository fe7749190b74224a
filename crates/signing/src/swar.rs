//! Byte tests eight at a time in a `u64` ("SIMD within a register"), for the parsers and
//! canonicalisers that run on every request: no branch and no table lookup per byte.
//!
//! Each byte of a word is a lane. The lane tests below are exact only for lanes below 0x80
//! (an addition in such a lane never carries into the next); callers reject or mask out bytes
//! with the high bit set themselves.

/// 0x01 in every lane: `ONES * b` puts `b` in every lane.
pub(crate) const ONES: u64 = 0x0101_0101_0101_0101;
/// The high bit of every lane, where the lane tests leave their answers.
pub(crate) const HIGH: u64 = 0x8080_8080_8080_8080;

/// A `chunks_exact(8)` chunk as a little-endian word (lane k is `eight[k]`).
pub(crate) fn word(eight: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(eight);
    u64::from_le_bytes(word)
}

/// High bit of each lane set where that byte is at least `low` (lanes below 0x80).
pub(crate) fn lanes_at_least(x: u64, low: u8) -> u64 {
    x.wrapping_add(ONES * u64::from(0x80 - low)) & HIGH
}

/// High bit of each lane set where that byte is at most `high` (lanes below 0x80).
pub(crate) fn lanes_at_most(x: u64, high: u8) -> u64 {
    !x.wrapping_add(ONES * u64::from(0x7f - high)) & HIGH
}

/// High bit of each lane set exactly where that byte is zero (any byte value).
pub(crate) fn zero_lanes(x: u64) -> u64 {
    let low7 = !HIGH;
    !(((x & low7) + low7) | x) & HIGH
}

/// `bytes[start..end]`'s first eight bytes (all of them if fewer) as a little-endian word
/// padded with zeros. Callers keep `start <= end <= bytes.len()`.
#[inline(always)]
pub(crate) fn prefix_word(bytes: &[u8], start: usize, end: usize) -> u64 {
    let whole = match bytes.get(start..start + 8) {
        Some(eight) => word(eight),
        // Near the end: the word ending at the last byte, shifted down to `start`, is one load
        // where a copy would go byte by byte.
        None => match bytes.len().checked_sub(8) {
            Some(last) => {
                let shift = u32::try_from(8 * start.saturating_sub(last)).unwrap_or(u32::MAX);
                word(bytes.get(last..).unwrap_or_default())
                    .checked_shr(shift)
                    .unwrap_or(0)
            }
            None => bytes
                .get(start..)
                .unwrap_or_default()
                .iter()
                .rev()
                .fold(0, |word, &b| word << 8 | u64::from(b)),
        },
    };
    let len = end - start;
    if len < 8 {
        whole & ((1 << (8 * len)) - 1)
    } else {
        whole
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every span of a few words' worth of bytes, against the bytes copied into a zeroed word.
    #[test]
    fn prefix_words_match_a_copy() {
        let bytes: Vec<u8> = (1..=20).collect();
        for len in 0..=bytes.len() {
            let text = &bytes[..len];
            for start in 0..=len {
                for end in start..=len {
                    let mut eight = [0u8; 8];
                    let n = (end - start).min(8);
                    eight[..n].copy_from_slice(&text[start..start + n]);
                    let expected = u64::from_le_bytes(eight);
                    assert_eq!(
                        prefix_word(text, start, end),
                        expected,
                        "{len} {start} {end}"
                    );
                }
            }
        }
    }

    /// Every byte value in every lane, against the plain comparison, with the other lanes
    /// holding other values (a carry out of one lane would show in its neighbour).
    #[test]
    fn lane_tests_match_byte_comparisons() {
        let background = word(&[0x00, 0x7f, 0x41, 0x20, 0x30, 0x66, 0x09, 0x5a]);
        for lane in 0..8 {
            let clear = background & !(0xff << (8 * lane));
            let expect = |hit: bool| if hit { 0x80u64 << (8 * lane) } else { 0 };
            let in_lane = |answer: u64| answer & (0xff << (8 * lane));
            for b in 0..=255u8 {
                let x = clear | u64::from(b) << (8 * lane);
                assert_eq!(in_lane(zero_lanes(x)), expect(b == 0), "zero {b:#x}");
                if b < 0x80 {
                    for bound in [0x21, b'0', b'9', b'a', b'f', 0x7f] {
                        assert_eq!(in_lane(lanes_at_least(x, bound)), expect(b >= bound));
                        assert_eq!(in_lane(lanes_at_most(x, bound)), expect(b <= bound));
                    }
                }
            }
        }
    }
}
