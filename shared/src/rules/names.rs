//! Normalisation for duplicate detection (撞单): two spellings of one company, phone or tax id
//! must compare equal; two different companies must not.
//!
//! Every function returns `None` when nothing identifying is left (a blank, "无", "N/A", a
//! two-digit phone), because an empty key would otherwise "match" every other empty key.

use unicode_normalization::UnicodeNormalization;

/// Chinese company-form suffixes, longest first so that 股份有限公司 is not cut to 股份.
const ZH_SUFFIXES: &[&str] = &[
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "分公司",
    "总公司",
    "集团",
    "公司",
];

/// English company-form words, stripped only as whole words at the end (so `Costco` keeps its
/// `co`).
const EN_SUFFIXES: &[&str] = &[
    "incorporated",
    "corporation",
    "limited",
    "company",
    "group",
    "corp",
    "gmbh",
    "ltd",
    "inc",
    "llc",
    "plc",
    "co",
];

/// A company name reduced to what identifies it: NFKC (full-width → half-width), ASCII lower
/// case, trailing company-form suffixes removed (有限公司, 股份有限公司, 集团, Co., Ltd., Inc …,
/// repeatedly, as in 集团有限公司 or Co., Ltd.), then every space and punctuation mark removed.
/// Place names and trade words are kept: 上海华东食品 and 上海华南食品 stay different.
pub fn normalise_name(name: &str) -> Option<String> {
    let mut text: String = name.nfkc().collect::<String>().to_ascii_lowercase();
    loop {
        let trimmed_len = text.trim_end_matches(|c: char| !c.is_alphanumeric()).len();
        text.truncate(trimmed_len);
        let Some(shorter) = strip_one_suffix(&text) else {
            break;
        };
        // Never strip a name down to nothing: "有限公司" alone is still that text.
        if !shorter.chars().any(char::is_alphanumeric) {
            break;
        }
        text = shorter;
    }
    let compact: String = text.chars().filter(|c| c.is_alphanumeric()).collect();
    (!compact.is_empty()).then_some(compact)
}

/// Removes one trailing suffix, if there is one.
fn strip_one_suffix(text: &str) -> Option<String> {
    for suffix in ZH_SUFFIXES {
        if let Some(rest) = text.strip_suffix(suffix) {
            return Some(rest.to_string());
        }
    }
    for suffix in EN_SUFFIXES {
        if let Some(rest) = text.strip_suffix(suffix)
            && !rest.ends_with(|c: char| c.is_ascii_alphanumeric())
        {
            return Some(rest.to_string());
        }
    }
    None
}

/// A phone number reduced to its digits in the domestic form: NFKC (full-width digits), every
/// separator dropped, a leading `+86`, `0086` or `86` country prefix removed. After `+86`/`0086`
/// a landline has lost its trunk `0` (`+86 21 …` is `021 …`), so it is put back; a bare `86` is
/// taken as a country prefix only in front of an 11-digit mobile number (1xx…), because a
/// domestic number may itself begin with 86. Fewer than 5 digits identify nothing: `None`.
pub fn normalise_phone(phone: &str) -> Option<String> {
    let text: String = phone.nfkc().collect();
    let trimmed = text.trim_start();
    let plus = trimmed.starts_with('+');
    let digits: String = trimmed.chars().filter(char::is_ascii_digit).collect();
    let international = if plus {
        digits.strip_prefix("86")
    } else {
        digits.strip_prefix("0086")
    };
    let domestic = match international {
        Some(rest) if is_mobile(rest) => rest.to_string(),
        Some(rest) if rest.starts_with('0') => rest.to_string(),
        Some(rest) => format!("0{rest}"),
        None => match digits.strip_prefix("86") {
            Some(rest) if !plus && is_mobile(rest) => rest.to_string(),
            _ => digits,
        },
    };
    (domestic.len() >= 5).then_some(domestic)
}

/// An 11-digit mainland mobile number.
fn is_mobile(digits: &str) -> bool {
    digits.len() == 11 && digits.starts_with('1')
}

/// A tax id (统一社会信用代码) in canonical form: NFKC, spaces removed, upper case. Only an
/// 18-character code of letters and digits is returned; anything else (blank, "无", a typo of
/// the wrong length) identifies nothing and yields `None`. The check digit is not verified, as
/// in [`crate::domain::is_unified_credit_code`].
pub fn normalise_tax_id(tax_id: &str) -> Option<String> {
    let code: String = tax_id
        .nfkc()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_ascii_uppercase();
    (code.len() == 18 && code.bytes().all(|b| b.is_ascii_alphanumeric())).then_some(code)
}

/// A batch or serial code in canonical form (NFKC, no spaces, upper case), so that a code typed
/// on a visit matches the code on the shipping record.
pub fn normalise_code(code: &str) -> Option<String> {
    let code: String = code
        .nfkc()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_uppercase();
    (!code.is_empty()).then_some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_that_must_match() {
        let same = [
            ("上海华东食品有限公司", "上海华东食品"),
            ("上海华东食品有限公司", "上海 华东食品 有限公司"),
            ("上海华东食品股份有限公司", "上海华东食品有限责任公司"),
            ("上海华东食品（集团）有限公司", "上海华东食品集团"),
            ("上海华东食品(集团)有限公司", "上海华东食品"),
            ("ＡＢＣ贸易有限公司", "abc贸易"),
            ("青岛·啤酒有限公司", "青岛啤酒公司"),
            ("Huadong Foods Co., Ltd.", "HUADONG FOODS"),
            ("Huadong Foods Co. Ltd", "huadong-foods limited"),
            ("Huadong Foods Company Limited", "Huadong Foods Inc."),
            ("Ｈｕａｄｏｎｇ Ｆｏｏｄｓ", "huadong foods corp"),
            ("Costco Co., Ltd.", "Costco"),
            ("杭州娃哈哈集团有限公司", "杭州娃哈哈"),
        ];
        for (a, b) in same {
            assert_eq!(normalise_name(a), normalise_name(b), "{a} vs {b}");
            assert!(normalise_name(a).is_some());
        }
    }

    #[test]
    fn near_misses_must_not_match() {
        let different = [
            ("上海华东食品有限公司", "上海华南食品有限公司"),
            ("上海华东食品有限公司", "上海华东饮料有限公司"),
            ("北京华东食品有限公司", "上海华东食品有限公司"),
            ("Costco", "Cost"),
            ("ABC Trading", "ABC Tradingco"),
            ("华东食品一厂", "华东食品二厂"),
        ];
        for (a, b) in different {
            assert_ne!(normalise_name(a), normalise_name(b), "{a} vs {b}");
        }
    }

    #[test]
    fn names_table() {
        let cases = [
            ("上海华东食品有限公司", Some("上海华东食品")),
            ("  Huadong Foods Co., Ltd. ", Some("huadongfoods")),
            ("有限公司", Some("有限公司")),
            ("Co., Ltd.", Some("co")),
            ("", None),
            ("（）·.,-", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_name(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn phones_table() {
        let cases = [
            ("138 1234 5678", Some("13812345678")),
            ("+86 138-1234-5678", Some("13812345678")),
            ("0086 13812345678", Some("13812345678")),
            ("8613812345678", Some("13812345678")),
            ("＋８６ １３８１２３４５６７８", Some("13812345678")),
            ("(021) 6123-4567", Some("02161234567")),
            ("+86 21 6123 4567", Some("02161234567")),
            ("+86 10 6123 4567", Some("01061234567")),
            ("0086-21-61234567", Some("02161234567")),
            ("86123456", Some("86123456")), // a local number beginning with 86 keeps it
            ("无", None),
            ("12", None),
            ("", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_phone(input).as_deref(), expected, "{input:?}");
        }
        assert_ne!(
            normalise_phone("13812345678"),
            normalise_phone("13812345679")
        );
    }

    #[test]
    fn tax_ids_table() {
        let cases = [
            ("91310000MA1FL4XQ3B", Some("91310000MA1FL4XQ3B")),
            ("9131 0000 ma1f l4xq 3b", Some("91310000MA1FL4XQ3B")),
            (
                "９１３１００００ＭＡ１ＦＬ４ＸＱ３Ｂ",
                Some("91310000MA1FL4XQ3B"),
            ),
            ("91310000MA1FL4XQ3", None),
            ("无", None),
            ("N/A", None),
        ];
        for (input, expected) in cases {
            assert_eq!(normalise_tax_id(input).as_deref(), expected, "{input:?}");
        }
    }

    #[test]
    fn codes_table() {
        assert_eq!(
            normalise_code(" lot 2024-07a ").as_deref(),
            Some("LOT2024-07A")
        );
        assert_eq!(normalise_code("ＬＯＴ１").as_deref(), Some("LOT1"));
        assert_eq!(normalise_code("  "), None);
    }
}
