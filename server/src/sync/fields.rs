//! Who may write which field: the shared field-permission table ([`shared::permissions`])
//! applied to every pushed change, judged on the record before and after it. The laptop runs
//! the same table before storing an edit; this is the check that counts.

use shared::record::Record;

use crate::accounts::Caller;

/// Refuses a change that writes a field the caller's role may not write: `Some((code,
/// reason))`, the reason in English and Chinese. `before` is `None` for a new record.
pub fn check(
    caller: &Caller,
    before: Option<&Record>,
    after: &Record,
) -> Option<(&'static str, String)> {
    let writer = shared::permissions::Writer {
        user: &caller.user.name,
        role: caller.user.role.writer(),
    };
    shared::permissions::check(writer, before, after)
        .err()
        .map(|refusal| (refusal.code, refusal.both_languages()))
}
