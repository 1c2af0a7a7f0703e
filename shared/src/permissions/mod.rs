//! Who may write which field of which record: write permission as a property of each (record
//! kind, field) and role, so that no rule can be silenced by the person it checks.
//!
//! The table ([`TABLE`]) is pure data; [`check`] compares a record before and after a change
//! ([`changed_fields`]) and refuses the first changed field the writer may not write. The server
//! runs it on every pushed change (so a laptop's word is never taken), and a laptop runs the
//! same check before it stores an edit, so the person hears the same reason at once.
//!
//! The territory a record belongs to (scope) is checked separately by the server; this table
//! only says which fields a role may change once it may write the record at all. Flags are left
//! to the flag guard (only their handling may change), and an approval and a credit hold to the
//! approval and hold checks, which know more than a field's name.

mod diff;

use crate::RecordKind;
use crate::record::Record;
use crate::rules::Message;
use crate::word_enum;

pub use diff::{FieldChange, changed_fields};

word_enum! {
    /// A person's account role, as far as writing records goes.
    pub enum Role {
        /// 业务员: writes their own customers, visits and deals.
        Salesperson = ("salesperson", "Salesperson", "业务员"),
        /// 区域经理
        RegionManager = ("region_manager", "Region manager", "区域经理"),
        /// 大区经理
        LargeRegionManager = ("large_region_manager", "Large-region manager", "大区经理"),
        /// 总部: master data (credit terms, dealers' authorised regions), no field work.
        HeadOffice = ("head_office", "Head office", "总部"),
        /// 财务: credit terms and payments, nothing else.
        Finance = ("finance", "Finance", "财务"),
        /// 系统管理员: the price list and dealers' authorised regions.
        Admin = ("admin", "Administrator", "系统管理员"),
    }
}

impl Role {
    /// Whether the role manages people: it may assign a customer or a deal to someone else.
    pub fn is_manager(self) -> bool {
        matches!(
            self,
            Role::RegionManager | Role::LargeRegionManager | Role::HeadOffice
        )
    }
}

/// The field force: everyone who writes customers, visits and deals by scope.
pub const FIELD_STAFF: &[Role] = &[
    Role::Salesperson,
    Role::RegionManager,
    Role::LargeRegionManager,
];

/// Credit terms: a manager (region manager or above) or finance, never a salesperson.
pub const CREDIT_CONTROL: &[Role] = &[
    Role::RegionManager,
    Role::LargeRegionManager,
    Role::HeadOffice,
    Role::Finance,
];

/// Who may write a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Who {
    /// These roles.
    Roles(&'static [Role]),
    /// The field force, but a user name must be the writer's own unless a manager sets it
    /// (an assignment): authority and rankings are judged by this name.
    OwnNameUnlessManager,
    /// Set when the record is created, never changed.
    OnCreate,
    /// A status: moving to or from `value` is for `value_by` only; any other change is for
    /// `otherwise`.
    Status {
        /// The guarded status word.
        value: &'static str,
        /// Who may move the status to or from it.
        value_by: &'static [Role],
        /// Who may make any other status change.
        otherwise: &'static [Role],
    },
    /// Checked by a dedicated check that knows more than the field's name (approvals, credit
    /// holds): anyone who may write the record passes here.
    Elsewhere,
}

/// One row of the table: a field (a dotted path; `*` stands for one map key, and a row covers
/// everything below its path) of a record kind, and who may write it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldRule {
    /// The record kind.
    pub kind: RecordKind,
    /// The field's path.
    pub field: &'static str,
    /// Who may write it.
    pub who: Who,
}

const fn rule(kind: RecordKind, field: &'static str, who: Who) -> FieldRule {
    FieldRule { kind, field, who }
}

use RecordKind::{Customer, Dealer, Order, Product, Quotation, Visit};

/// Past credit problems, in words: the field force notes them, and so does credit control.
const CREDIT_TERMS_AND_PROBLEMS: &[Role] = &[
    Role::Salesperson,
    Role::RegionManager,
    Role::LargeRegionManager,
    Role::HeadOffice,
    Role::Finance,
];

/// A dealer's file is master data: the field force, head office and admins keep it.
const DEALER_FILE: &[Role] = &[
    Role::Salesperson,
    Role::RegionManager,
    Role::LargeRegionManager,
    Role::HeadOffice,
    Role::Admin,
];

/// Order fields finance keeps (invoicing, payment).
const FIELD_STAFF_AND_FINANCE: &[Role] = &[
    Role::Salesperson,
    Role::RegionManager,
    Role::LargeRegionManager,
    Role::Finance,
];

/// The field-permission table. A field no row covers is written by [`DEFAULT_WRITERS`]; the
/// most specific row (the longest path) decides. ARCHITECTURE.md prints this table.
pub static TABLE: &[FieldRule] = &[
    rule(Customer, "credit.limit", Who::Roles(CREDIT_CONTROL)),
    rule(Customer, "credit.currency", Who::Roles(CREDIT_CONTROL)),
    rule(Customer, "credit.rating", Who::Roles(CREDIT_CONTROL)),
    rule(Customer, "credit.payment_terms", Who::Roles(CREDIT_CONTROL)),
    rule(
        Customer,
        "credit.problems",
        Who::Roles(CREDIT_TERMS_AND_PROBLEMS),
    ),
    rule(Customer, "salesperson", Who::OwnNameUnlessManager),
    rule(Customer, "merged_into", Who::Roles(&[])),
    rule(Customer, "created_at", Who::OnCreate),
    rule(Dealer, "", Who::Roles(DEALER_FILE)),
    rule(
        Dealer,
        "authorised_regions",
        Who::Roles(&[Role::HeadOffice, Role::Admin]),
    ),
    rule(Dealer, "created_at", Who::OnCreate),
    rule(Product, "", Who::Roles(&[Role::Admin])),
    rule(Product, "created_at", Who::OnCreate),
    rule(Visit, "salesperson", Who::OwnNameUnlessManager),
    rule(Visit, "created_at", Who::OnCreate),
    rule(Quotation, "salesperson", Who::OwnNameUnlessManager),
    rule(Quotation, "created_at", Who::OnCreate),
    rule(Quotation, "approval", Who::Elsewhere),
    rule(Order, "salesperson", Who::OwnNameUnlessManager),
    rule(Order, "created_at", Who::OnCreate),
    rule(
        Order,
        "status",
        Who::Status {
            value: "paid",
            value_by: &[Role::Finance],
            otherwise: FIELD_STAFF_AND_FINANCE,
        },
    ),
    rule(Order, "payment_due", Who::Roles(FIELD_STAFF_AND_FINANCE)),
    rule(Order, "approval", Who::Elsewhere),
    rule(Order, "credit_hold", Who::Elsewhere),
];

/// Who writes a field no row of [`TABLE`] covers: the field force.
pub const DEFAULT_WRITERS: &[Role] = FIELD_STAFF;

/// The person writing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Writer<'a> {
    /// Their user name.
    pub user: &'a str,
    /// Their role.
    pub role: Role,
}

/// Why a change is refused: a stable code, the field, and a sentence in both languages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// `field_not_permitted`, `not_your_name`, `field_fixed` or `paid_by_finance`.
    pub code: &'static str,
    /// The field's path.
    pub field: String,
    /// What the person is told.
    pub message: Message,
}

impl Refusal {
    /// The reason in both languages, English first, for a channel that carries one sentence.
    pub fn both_languages(&self) -> String {
        format!("{} / {}", self.message.en, self.message.zh_cn)
    }
}

/// The rule deciding `path` of a record of `kind`.
pub fn who_writes(kind: RecordKind, path: &str) -> Who {
    TABLE
        .iter()
        .filter(|r| r.kind == kind && covers(r.field, path))
        .max_by_key(|r| r.field.len())
        .map_or(Who::Roles(DEFAULT_WRITERS), |r| r.who)
}

/// Whether a row's `pattern` covers `path`: its segments are a prefix of the path's, `*`
/// matching any one segment; the empty pattern covers every field.
fn covers(pattern: &str, path: &str) -> bool {
    if pattern.is_empty() {
        return true;
    }
    let mut segments = path.split('.');
    pattern
        .split('.')
        .all(|p| segments.next().is_some_and(|s| p == "*" || p == s))
}

/// Checks that `writer` may make the change from `before` (`None` for a new record) to
/// `after`. Flags are not judged here (the flag guard owns them).
pub fn check(writer: Writer<'_>, before: Option<&Record>, after: &Record) -> Result<(), Refusal> {
    let kind = after.kind();
    if kind == RecordKind::Flag {
        return Ok(());
    }
    for change in changed_fields(before, after) {
        check_field(writer, kind, &change, before.is_none())?;
    }
    Ok(())
}

fn check_field(
    writer: Writer<'_>,
    kind: RecordKind,
    change: &FieldChange,
    creating: bool,
) -> Result<(), Refusal> {
    let allowed = |roles: &[Role]| roles.contains(&writer.role);
    match who_writes(kind, &change.path) {
        Who::Elsewhere => Ok(()),
        Who::Roles(roles) if allowed(roles) => Ok(()),
        Who::Roles(roles) => Err(not_permitted(writer, kind, &change.path, roles)),
        Who::OnCreate if creating => Ok(()),
        Who::OnCreate => Err(fixed(kind, &change.path)),
        Who::OwnNameUnlessManager if !allowed(FIELD_STAFF) && !writer.role.is_manager() => {
            Err(not_permitted(writer, kind, &change.path, FIELD_STAFF))
        }
        Who::OwnNameUnlessManager => {
            let named = change.new.as_ref().and_then(|v| v.as_str());
            if writer.role.is_manager() || named == Some(writer.user) {
                Ok(())
            } else {
                Err(not_your_name(writer, kind, &change.path, named))
            }
        }
        Who::Status {
            value,
            value_by,
            otherwise,
        } => {
            let is =
                |v: &Option<serde_json::Value>| v.as_ref().and_then(|v| v.as_str()) == Some(value);
            if is(&change.old) || is(&change.new) {
                if allowed(value_by) {
                    Ok(())
                } else {
                    Err(guarded_status(writer, kind, value, value_by))
                }
            } else if allowed(otherwise) {
                Ok(())
            } else {
                Err(not_permitted(writer, kind, &change.path, otherwise))
            }
        }
    }
}

fn labels(roles: &[Role], lang: crate::i18n::Lang, separator: &str) -> String {
    roles
        .iter()
        .map(|r| r.label(lang))
        .collect::<Vec<_>>()
        .join(separator)
}

fn who(writer: Writer<'_>, lang: crate::i18n::Lang) -> String {
    match lang {
        crate::i18n::Lang::En => format!("{} ({})", writer.user, writer.role.label(lang)),
        crate::i18n::Lang::ZhCn => format!("{}（{}）", writer.user, writer.role.label(lang)),
    }
}

fn not_permitted(writer: Writer<'_>, kind: RecordKind, field: &str, roles: &[Role]) -> Refusal {
    use crate::i18n::Lang::{En, ZhCn};
    let (en_roles, zh_roles) = if roles.is_empty() {
        (
            "nobody on a laptop".to_string(),
            "任何终端均不可".to_string(),
        )
    } else {
        (labels(roles, En, ", "), labels(roles, ZhCn, "、"))
    };
    Refusal {
        code: "field_not_permitted",
        field: field.to_string(),
        message: Message {
            en: format!(
                "{} may not change `{field}` of {}: only {en_roles} may.",
                who(writer, En),
                a(kind)
            ),
            zh_cn: format!(
                "{}无权修改{}的「{field}」：仅限{zh_roles}。",
                who(writer, ZhCn),
                kind_zh(kind)
            ),
        },
    }
}

fn not_your_name(
    writer: Writer<'_>,
    kind: RecordKind,
    field: &str,
    named: Option<&str>,
) -> Refusal {
    use crate::i18n::Lang::{En, ZhCn};
    let named = named.unwrap_or("");
    Refusal {
        code: "not_your_name",
        field: field.to_string(),
        message: Message {
            en: format!(
                "{} may not name `{named}` as the {field} of {}: it must be your own name; \
                 only a manager assigns it to someone else.",
                who(writer, En),
                a(kind)
            ),
            zh_cn: format!(
                "{}不能将{}的「{field}」填为「{named}」：只能填本人，指派他人须由经理操作。",
                who(writer, ZhCn),
                kind_zh(kind)
            ),
        },
    }
}

fn fixed(kind: RecordKind, field: &str) -> Refusal {
    Refusal {
        code: "field_fixed",
        field: field.to_string(),
        message: Message {
            en: format!(
                "`{field}` of {} is set when it is created and never changed.",
                a(kind)
            ),
            zh_cn: format!("{}的「{field}」在创建时确定，之后不可修改。", kind_zh(kind)),
        },
    }
}

fn guarded_status(writer: Writer<'_>, kind: RecordKind, value: &str, roles: &[Role]) -> Refusal {
    use crate::i18n::Lang::{En, ZhCn};
    Refusal {
        code: "paid_by_finance",
        field: "status".to_string(),
        message: Message {
            en: format!(
                "{} may not set {} to or from `{value}`: only {} may (until payments are \
                 recorded in the ledger).",
                who(writer, En),
                a(kind),
                labels(roles, En, ", ")
            ),
            zh_cn: format!(
                "{}无权将{}设为或改离「{value}」：仅限{}（回款入账功能上线前）。",
                who(writer, ZhCn),
                kind_zh(kind),
                labels(roles, ZhCn, "、")
            ),
        },
    }
}

/// The kind with its English article: "a customer", "an order".
fn a(kind: RecordKind) -> String {
    let article = if kind == RecordKind::Order { "an" } else { "a" };
    format!("{article} {kind}")
}

fn kind_zh(kind: RecordKind) -> &'static str {
    match kind {
        RecordKind::Customer => "客户",
        RecordKind::Dealer => "经销商",
        RecordKind::Product => "产品",
        RecordKind::Visit => "拜访",
        RecordKind::Quotation => "报价",
        RecordKind::Order => "订单",
        RecordKind::Flag => "预警",
    }
}

#[cfg(test)]
mod tests;
