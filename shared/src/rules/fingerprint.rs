//! The fingerprint of a deal's priced content, so an approval can be tied to exactly what was
//! approved: an approved quotation edited afterwards needs approval again.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::facts::DealFacts;
use crate::money::canonical;

/// The canonical text of a deal's customer, currency and priced lines (product, quantity, unit
/// price, discount). It is the text itself, not a hash of it, so two different deals can never
/// share a fingerprint, and it needs no hashing crate; [`Fingerprint::short`] gives a digest
/// for keys. Lines are sorted, so reordering lines (a position change) keeps the fingerprint,
/// while any change of product, quantity, price or discount, or adding or removing a line,
/// changes it. Decimals are canonical, so `19.90` and `19.9` are one price. The customer is
/// included because quoting the same lines to another customer is a different deal.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The version prefix; bump it if the canonical form ever changes, so old approvals are
    /// recognised as from an older scheme rather than silently mismatched.
    const VERSION: &'static str = "fp1";

    /// The fingerprint of a deal's current content.
    pub fn of(deal: &DealFacts) -> Self {
        let mut lines: Vec<String> = deal
            .lines
            .iter()
            .map(|l| {
                // Length-prefixed product code: no product code can forge a field boundary.
                format!(
                    "{}:{}|{}|{}|{}",
                    l.product.len(),
                    l.product,
                    canonical(l.quantity),
                    canonical(l.unit_price),
                    canonical(l.discount_pct)
                )
            })
            .collect();
        lines.sort();
        let mut text = format!("{};{};{};", Self::VERSION, deal.customer_id, deal.currency);
        for line in lines {
            let _ = write!(text, "{line};");
        }
        Self(text)
    }

    /// A fingerprint as stored on an approval record.
    pub fn from_stored(text: impl Into<String>) -> Self {
        Self(text.into())
    }

    /// The canonical text, for storing on the approval record.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A 16-hex-digit FNV-1a digest of the text, for flag keys. Not a security boundary: the
    /// approval check compares the full text.
    pub fn short(&self) -> String {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in self.0.bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{hash:016x}")
    }
}

/// Whether an approval given for `approved` still covers `current`: true only when the deal's
/// priced content is exactly what was approved.
pub fn approval_still_valid(approved: &Fingerprint, current: &DealFacts) -> bool {
    *approved == Fingerprint::of(current)
}
