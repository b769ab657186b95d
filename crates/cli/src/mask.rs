//! Masking secret values in a byte stream, for `sesame run`.
//!
//! Every occurrence of a secret is replaced by [`MASK`]. Secrets are tried longest
//! first, so a secret that is a substring of another never leaves part of the longer one
//! visible. A secret split across writes is still found: bytes that could be the start of
//! a secret (at most the longest secret's length minus one) are held back until the next
//! write decides, and released by [`Masker::finish`].

use zeroize::Zeroizing;

/// What a secret is replaced with.
pub(crate) const MASK: &[u8] = b"<concealed by sesame>";

/// A streaming masker.
pub(crate) struct Masker {
    /// Non-empty secrets, longest first.
    secrets: Vec<Zeroizing<Vec<u8>>>,
    /// Held-back bytes that are a proper prefix of some secret.
    pending: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for Masker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Masker")
            .field("secrets", &self.secrets.len())
            .finish_non_exhaustive()
    }
}

impl Masker {
    pub(crate) fn new<S: AsRef<[u8]>>(secrets: impl IntoIterator<Item = S>) -> Self {
        let mut secrets: Vec<Zeroizing<Vec<u8>>> = secrets
            .into_iter()
            .map(|s| s.as_ref().to_vec())
            .filter(|s| !s.is_empty())
            .map(Zeroizing::new)
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Self {
            secrets,
            pending: Zeroizing::new(Vec::new()),
        }
    }

    /// Masks `data` (continuing the previous writes): the bytes that may be written now.
    pub(crate) fn push(&mut self, data: &[u8]) -> Vec<u8> {
        let mut buffer = Zeroizing::new(std::mem::take(&mut *self.pending));
        buffer.extend_from_slice(data);
        let (out, held) = self.scan(&buffer, false);
        self.pending = Zeroizing::new(buffer[held..].to_vec());
        out
    }

    /// The bytes still held back, masked, at the end of the stream.
    pub(crate) fn finish(&mut self) -> Vec<u8> {
        let buffer = Zeroizing::new(std::mem::take(&mut *self.pending));
        self.scan(&buffer, true).0
    }

    /// Masks `buffer`; unless `last`, stops where a secret might begin but the buffer ends
    /// first. Returns the output and the offset of the first byte not consumed.
    fn scan(&self, buffer: &[u8], last: bool) -> (Vec<u8>, usize) {
        let mut out = Vec::with_capacity(buffer.len());
        let mut i = 0;
        'outer: while i < buffer.len() {
            let rest = &buffer[i..];
            for secret in &self.secrets {
                if rest.starts_with(secret) {
                    out.extend_from_slice(MASK);
                    i += secret.len();
                    continue 'outer;
                }
                if !last && rest.len() < secret.len() && secret.starts_with(rest) {
                    // A longer secret may be completed by the next write: wait for it
                    // rather than masking a shorter one or leaking its first bytes.
                    return (out, i);
                }
            }
            out.push(buffer[i]);
            i += 1;
        }
        (out, i)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask_writes(secrets: &[&str], writes: &[&str]) -> String {
        let mut masker = Masker::new(secrets);
        let mut out = Vec::new();
        for w in writes {
            out.extend(masker.push(w.as_bytes()));
        }
        out.extend(masker.finish());
        String::from_utf8(out).unwrap()
    }

    const M: &str = "<concealed by sesame>";

    #[test]
    fn whole_values_are_masked() {
        assert_eq!(
            mask_writes(&["hunter2"], &["pw=hunter2 and hunter2\n"]),
            format!("pw={M} and {M}\n")
        );
        assert_eq!(mask_writes(&[""], &["nothing"]), "nothing");
    }

    #[test]
    fn values_split_across_writes_are_masked() {
        let secret = "s3cr3t-value";
        let bytes: Vec<String> = format!("a {secret} b").chars().map(String::from).collect();
        let writes: Vec<&str> = bytes.iter().map(String::as_str).collect();
        assert_eq!(mask_writes(&[secret], &writes), format!("a {M} b"));
        assert_eq!(
            mask_writes(&[secret], &["x s3cr", "3t-val", "ue y"]),
            format!("x {M} y")
        );
    }

    #[test]
    fn substrings_and_overlaps_mask_the_longest() {
        assert_eq!(
            mask_writes(&["abc", "abcdef"], &["1 abcdef 2 abc 3"]),
            format!("1 {M} 2 {M} 3")
        );
        // The short one arrives first, but the long one might follow: wait.
        assert_eq!(mask_writes(&["abc", "abcdef"], &["abc", "def"]), M);
        assert_eq!(
            mask_writes(&["abc", "abcdef"], &["abc", "d", "x"]),
            format!("{M}dx")
        );
        // Overlapping values: the first match wins, the rest is masked if it matches.
        assert_eq!(mask_writes(&["aab"], &["aaab"]), format!("a{M}"));
    }

    #[test]
    fn a_partial_prefix_at_the_end_is_released() {
        let mut masker = Masker::new(["secret"]);
        assert_eq!(masker.push(b"ok sec"), b"ok ");
        assert_eq!(masker.finish(), b"sec");
    }

    #[test]
    fn held_back_bytes_are_bounded_by_the_longest_secret() {
        let mut masker = Masker::new(["abcdef"]);
        let out = masker.push(b"xxabcde");
        assert_eq!(out, b"xx");
        assert_eq!(masker.pending.len(), 5);
    }
}
