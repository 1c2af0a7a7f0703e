//! The organisation: 8 regions in 4 large regions, 5 salespeople per region (grades probation /
//! regular / supervisor) and a region manager each, as the TOML the servers import and as the
//! people whose laptops sign the changes.

use automerge::ActorId;

/// Regions: code, office name, city, large region.
pub const REGIONS: [(&str, &str, &str, &str); 8] = [
    ("EAST-SH", "上海办事处", "上海", "EAST"),
    ("EAST-HZ", "杭州办事处", "杭州", "EAST"),
    ("SOUTH-GZ", "广州办事处", "广州", "SOUTH"),
    ("SOUTH-SZ", "深圳办事处", "深圳", "SOUTH"),
    ("NORTH-BJ", "北京办事处", "北京", "NORTH"),
    ("NORTH-TJ", "天津办事处", "天津", "NORTH"),
    ("WEST-CD", "成都办事处", "成都", "WEST"),
    ("WEST-CQ", "重庆办事处", "重庆", "WEST"),
];
const LARGE: [(&str, &str); 4] = [
    ("EAST", "华东大区"),
    ("SOUTH", "华南大区"),
    ("NORTH", "华北大区"),
    ("WEST", "西南大区"),
];
/// Salespeople per region.
pub const PER_REGION: usize = 5;

/// One person of the organisation with the actor their laptop signs changes with.
pub struct Person {
    pub name: String,
    pub actor: ActorId,
}

/// The organisation as TOML, its people, and who is who by region.
pub struct Org {
    pub toml: String,
    pub people: Vec<Person>,
    /// `managers[r]`: region `r`'s manager, an index into `people`.
    pub managers: Vec<usize>,
    /// `sellers[r][k]`: region `r`'s `k`th salesperson, an index into `people`.
    pub sellers: Vec<Vec<usize>>,
    /// Head office, which grants dealers their regions, an index into `people`.
    pub head: usize,
}

impl Org {
    fn territory(&mut self, code: &str, name: &str, parent: Option<&str>) {
        self.toml += &format!("[[territory]]\ncode = \"{code}\"\nname = \"{name}\"\n");
        if let Some(parent) = parent {
            self.toml += &format!("parent = \"{parent}\"\n");
        }
    }

    fn person(&mut self, name: String, role: &str, region: &str, grade: &str) -> usize {
        self.toml += &format!(
            "[[user]]\nname = \"{name}\"\nrole = \"{role}\"\nterritory = \"{region}\"\n\
             password = \"pw-{name}\"\ngrade = \"{grade}\"\n"
        );
        self.people.push(Person {
            name,
            actor: ActorId::random(),
        });
        self.people.len() - 1
    }
}

/// Builds the organisation.
pub fn organisation() -> Org {
    let mut org = Org {
        toml: String::new(),
        people: Vec::new(),
        managers: Vec::new(),
        sellers: Vec::new(),
        head: 0,
    };
    org.territory("CN", "公司总部", None);
    org.head = org.person("hq".to_string(), "head_office", "CN", "regular");
    for (code, name) in LARGE {
        org.territory(code, name, Some("CN"));
    }
    for (code, name, _, large) in REGIONS {
        org.territory(code, name, Some(large));
    }
    for (code, ..) in REGIONS {
        let slug = code.to_lowercase();
        let manager = org.person(format!("{slug}.mgr"), "region_manager", code, "regular");
        org.managers.push(manager);
        let sellers = (0..PER_REGION)
            .map(|k| {
                let grade = match k {
                    0 => "probation",
                    4 => "supervisor",
                    _ => "regular",
                };
                org.person(format!("{slug}.{k}"), "salesperson", code, grade)
            })
            .collect();
        org.sellers.push(sellers);
    }
    org
}
