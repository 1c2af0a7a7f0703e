//! A realistic organisation for the demo: large regions, regions (offices), managers and
//! salespeople with Chinese names, and the TOML the server imports.

use std::fmt::Write;

/// One region (办事处) and its city.
#[derive(Debug, Clone)]
pub struct Region {
    /// Territory code, e.g. `EAST-SH`.
    pub code: &'static str,
    /// Office name.
    pub name: &'static str,
    /// City, used in company names and addresses.
    pub city: &'static str,
    /// Districts of the city, for addresses.
    pub districts: &'static [&'static str],
    /// The large region it belongs to.
    pub large: &'static str,
}

/// The large regions (大区): code and name.
pub const LARGE_REGIONS: [(&str, &str); 3] = [
    ("EAST", "华东大区"),
    ("SOUTH", "华南大区"),
    ("NORTH", "华北大区"),
];

/// The regions.
pub const REGIONS: [Region; 7] = [
    Region {
        code: "EAST-SH",
        name: "上海办事处",
        city: "上海",
        districts: &["浦东新区", "徐汇区", "静安区", "闵行区"],
        large: "EAST",
    },
    Region {
        code: "EAST-HZ",
        name: "杭州办事处",
        city: "杭州",
        districts: &["西湖区", "滨江区", "余杭区"],
        large: "EAST",
    },
    Region {
        code: "EAST-NJ",
        name: "南京办事处",
        city: "南京",
        districts: &["鼓楼区", "江宁区", "秦淮区"],
        large: "EAST",
    },
    Region {
        code: "SOUTH-GZ",
        name: "广州办事处",
        city: "广州",
        districts: &["天河区", "越秀区", "番禺区"],
        large: "SOUTH",
    },
    Region {
        code: "SOUTH-SZ",
        name: "深圳办事处",
        city: "深圳",
        districts: &["南山区", "福田区", "宝安区"],
        large: "SOUTH",
    },
    Region {
        code: "NORTH-BJ",
        name: "北京办事处",
        city: "北京",
        districts: &["朝阳区", "海淀区", "丰台区"],
        large: "NORTH",
    },
    Region {
        code: "NORTH-TJ",
        name: "天津办事处",
        city: "天津",
        districts: &["和平区", "南开区", "滨海新区"],
        large: "NORTH",
    },
];

/// Family and given names for salespeople, with their pinyin for user names.
const FAMILY: [(&str, &str); 12] = [
    ("张", "zhang"),
    ("王", "wang"),
    ("李", "li"),
    ("刘", "liu"),
    ("陈", "chen"),
    ("杨", "yang"),
    ("赵", "zhao"),
    ("黄", "huang"),
    ("周", "zhou"),
    ("吴", "wu"),
    ("徐", "xu"),
    ("孙", "sun"),
];
const GIVEN: [(&str, &str); 10] = [
    ("伟", "wei"),
    ("芳", "fang"),
    ("娜", "na"),
    ("敏", "min"),
    ("静", "jing"),
    ("磊", "lei"),
    ("洋", "yang"),
    ("勇", "yong"),
    ("艳", "yan"),
    ("杰", "jie"),
];

/// A person in the organisation.
#[derive(Debug, Clone)]
pub struct Person {
    /// User name, e.g. `zhang.wei3`.
    pub user: String,
    /// Chinese name.
    pub name: String,
    /// Role as the server knows it.
    pub role: &'static str,
    /// Territory code.
    pub territory: String,
}

/// The password every demo account gets.
pub const PASSWORD: &str = "demo-2026";

/// The whole organisation.
#[derive(Debug, Clone)]
pub struct Org {
    /// Everyone, managers first.
    pub people: Vec<Person>,
}

impl Org {
    /// Builds the organisation with `per_region` salespeople in each region.
    pub fn build(per_region: usize) -> Org {
        let mut people = vec![
            Person {
                user: "hq".into(),
                name: "总部销售总监".into(),
                role: "head_office",
                territory: "CN".into(),
            },
            Person {
                user: "admin".into(),
                name: "系统管理员".into(),
                role: "admin",
                territory: "CN".into(),
            },
        ];
        let mut n = 0usize;
        let mut next_name = || {
            let (family, family_py) = FAMILY[n % FAMILY.len()];
            let (given, given_py) = GIVEN[(n / FAMILY.len() + n) % GIVEN.len()];
            n += 1;
            (
                format!("{family_py}.{given_py}{n}"),
                format!("{family}{given}"),
            )
        };
        for (code, _) in LARGE_REGIONS {
            let (user, name) = next_name();
            people.push(Person {
                user,
                name,
                role: "large_region_manager",
                territory: code.into(),
            });
        }
        for region in &REGIONS {
            let (user, name) = next_name();
            people.push(Person {
                user,
                name,
                role: "region_manager",
                territory: region.code.into(),
            });
            for _ in 0..per_region {
                let (user, name) = next_name();
                people.push(Person {
                    user,
                    name,
                    role: "salesperson",
                    territory: region.code.into(),
                });
            }
        }
        Org { people }
    }

    /// The salespeople.
    pub fn salespeople(&self) -> impl Iterator<Item = &Person> {
        self.people.iter().filter(|p| p.role == "salesperson")
    }

    /// The organisation as the server's import TOML.
    pub fn to_toml(&self) -> String {
        let mut toml = String::from("[[territory]]\ncode = \"CN\"\nname = \"公司总部\"\n");
        for (code, name) in LARGE_REGIONS {
            let _ = write!(
                toml,
                "\n[[territory]]\ncode = \"{code}\"\nname = \"{name}\"\nparent = \"CN\"\n"
            );
        }
        for region in &REGIONS {
            let _ = write!(
                toml,
                "\n[[territory]]\ncode = \"{}\"\nname = \"{}\"\nparent = \"{}\"\n",
                region.code, region.name, region.large
            );
        }
        for person in &self.people {
            let _ = write!(
                toml,
                "\n[[user]]\nname = \"{}\"\nrole = \"{}\"\nterritory = \"{}\"\npassword = \"{PASSWORD}\"\n",
                person.user, person.role, person.territory
            );
        }
        toml
    }
}

/// Region by code.
pub fn region(code: &str) -> Option<&'static Region> {
    REGIONS.iter().find(|r| r.code == code)
}

const TRADE_NAMES: [&str; 16] = [
    "华联",
    "金桥",
    "恒达",
    "鑫源",
    "永辉",
    "顺发",
    "东方",
    "宏图",
    "嘉禾",
    "瑞丰",
    "福满",
    "百佳",
    "兴隆",
    "新世纪",
    "汇通",
    "佳美",
];
const TRADES: [&str; 7] = ["食品", "商贸", "饮料", "酒业", "超市", "物流", "百货"];
const SUFFIXES: [&str; 3] = ["有限公司", "有限责任公司", "股份有限公司"];
const ROADS: [&str; 6] = ["人民路", "中山路", "解放路", "建设路", "长江路", "和平路"];

/// A company name for the `n`th customer of a city.
pub fn company_name(city: &str, n: usize) -> String {
    format!(
        "{city}{}{}{}",
        TRADE_NAMES[n % TRADE_NAMES.len()],
        TRADES[(n / TRADE_NAMES.len()) % TRADES.len()],
        SUFFIXES[n % SUFFIXES.len()]
    )
}

/// A street address in a region.
pub fn address(region: &Region, n: usize) -> String {
    format!(
        "{}市{}{}{}号",
        region.city,
        region.districts[n % region.districts.len()],
        ROADS[n % ROADS.len()],
        10 + n * 7 % 300
    )
}

/// A unified social credit code that is unique per `n` (shape-valid, not a real company's).
pub fn tax_id(n: usize) -> String {
    format!("91310000MA{:08}", n)
}
