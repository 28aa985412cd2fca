//! Byte layouts of the keys in the log's trees. Big-endian numbers so sled's order is numeric.

pub const META_POSITION: &[u8] = b"position";

pub fn position(p: u64) -> [u8; 8] {
    p.to_be_bytes()
}

pub fn decode_u64(bytes: &[u8]) -> u64 {
    let mut buf = [0u8; 8];
    buf.copy_from_slice(&bytes[..8]);
    u64::from_be_bytes(buf)
}

/// `stream ‖ 0x00 ‖ version`: stream names never hold a NUL (checked on append), so a prefix scan
/// over `stream ‖ 0x00` sees exactly one stream, in version order.
pub fn index(stream: &str, version: u64) -> Vec<u8> {
    let mut key = index_prefix(stream);
    key.extend_from_slice(&version.to_be_bytes());
    key
}

pub fn index_prefix(stream: &str) -> Vec<u8> {
    let mut key = Vec::with_capacity(stream.len() + 9);
    key.extend_from_slice(stream.as_bytes());
    key.push(0);
    key
}

/// Splits an index key back into stream and version.
pub fn split_index(key: &[u8]) -> Option<(&str, u64)> {
    if key.len() < 9 || key[key.len() - 9] != 0 {
        return None;
    }
    let stream = std::str::from_utf8(&key[..key.len() - 9]).ok()?;
    Some((stream, decode_u64(&key[key.len() - 8..])))
}
