//! Checks a pushed change's bytes before Automerge sees them.
//!
//! Automerge 0.12 trusts its input: a crafted chunk can panic it, make it allocate gigabytes or
//! inflate a small body without limit. So the chunk header is parsed here: magic bytes, 4-byte
//! checksum, chunk type, LEB128 length equal to what follows. Only change chunks (type 1) and
//! compressed change chunks (type 2) are accepted; a compressed body is inflated here with a cap
//! and handed on as the equivalent uncompressed chunk (same checksum, so the same hash).

use std::io::Read;

use flate2::read::DeflateDecoder;
use sha2::{Digest, Sha256};
use shared::protocol::MAX_CHANGE_BYTES;

/// The magic bytes every Automerge chunk starts with.
pub const MAGIC: [u8; 4] = [0x85, 0x6f, 0x4a, 0x83];

const CHUNK_DOCUMENT: u8 = 0;
const CHUNK_CHANGE: u8 = 1;
const CHUNK_COMPRESSED: u8 = 2;

/// A change chunk that passed the checks.
#[derive(Debug, Clone)]
pub struct CheckedChunk {
    /// An uncompressed change chunk, safe to give to Automerge's parser.
    pub plain: Vec<u8>,
}

impl CheckedChunk {
    /// The hash Automerge will compute for this change (hex), from the chunk type, length and
    /// body; used to name a change Automerge then refuses.
    pub fn expected_hash(&self) -> String {
        hex::encode(Sha256::digest(&self.plain[8..]))
    }
}

/// Checks (and if compressed, inflates) a pushed change chunk.
pub fn check(bytes: &[u8]) -> Result<CheckedChunk, String> {
    if bytes.len() > MAX_CHANGE_BYTES {
        return Err(format!("change is larger than {MAX_CHANGE_BYTES} bytes"));
    }
    if bytes.len() < 10 || bytes[..4] != MAGIC {
        return Err("not an Automerge chunk".into());
    }
    let checksum = &bytes[4..8];
    let chunk_type = bytes[8];
    let (declared, leb_len) = read_leb128(&bytes[9..]).ok_or("bad chunk length")?;
    let body = &bytes[9 + leb_len..];
    if declared != body.len() as u64 {
        return Err(format!(
            "chunk says {declared} bytes but {} follow",
            body.len()
        ));
    }
    let checked = match chunk_type {
        CHUNK_CHANGE => CheckedChunk {
            plain: bytes.to_vec(),
        },
        CHUNK_COMPRESSED => {
            let mut inflated = Vec::new();
            DeflateDecoder::new(body)
                .take(MAX_CHANGE_BYTES as u64 + 1)
                .read_to_end(&mut inflated)
                .map_err(|_| "compressed change does not inflate".to_string())?;
            if inflated.len() > MAX_CHANGE_BYTES {
                return Err(format!(
                    "compressed change inflates beyond {MAX_CHANGE_BYTES} bytes"
                ));
            }
            let mut plain = Vec::with_capacity(inflated.len() + 20);
            plain.extend_from_slice(&MAGIC);
            plain.extend_from_slice(checksum);
            plain.push(CHUNK_CHANGE);
            write_leb128(&mut plain, inflated.len() as u64);
            plain.extend_from_slice(&inflated);
            CheckedChunk { plain }
        }
        CHUNK_DOCUMENT => return Err("whole documents are not accepted, only changes".into()),
        other => return Err(format!("unknown chunk type {other}")),
    };
    // The checksum is the first four bytes of the SHA-256 of type, length and body (for a
    // compressed chunk, of the uncompressed form); Automerge does not always check it.
    if Sha256::digest(&checked.plain[8..])[..4] != checked.plain[4..8] {
        return Err("the chunk's checksum does not match its contents".into());
    }
    Ok(checked)
}

/// Reads an unsigned LEB128 of at most 10 bytes; returns the value and its length.
fn read_leb128(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value: u64 = 0;
    for (i, byte) in bytes.iter().enumerate().take(10) {
        let low = u64::from(byte & 0x7f);
        let shift = 7 * i as u32;
        if shift == 63 && low > 1 {
            return None;
        }
        value |= low << shift;
        if byte & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

fn write_leb128(out: &mut Vec<u8>, mut value: u64) {
    loop {
        let byte = (value & 0x7f) as u8;
        value >>= 7;
        if value == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leb128_round_trips() {
        for value in [0u64, 1, 127, 128, 300, u64::from(u32::MAX), u64::MAX] {
            let mut out = Vec::new();
            write_leb128(&mut out, value);
            assert_eq!(read_leb128(&out), Some((value, out.len())));
        }
        assert_eq!(read_leb128(&[0x80; 11]), None);
        assert_eq!(read_leb128(&[0x80]), None);
    }

    #[test]
    fn refuses_bad_headers() {
        assert!(check(b"hello world").is_err());
        let mut bytes = MAGIC.to_vec();
        bytes.extend([0, 0, 0, 0, CHUNK_CHANGE, 5, 1, 2]);
        assert!(check(&bytes).is_err(), "length mismatch");
        bytes[8] = CHUNK_DOCUMENT;
        assert!(check(&bytes).is_err());
    }
}
