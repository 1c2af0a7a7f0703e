//! The territory tree (company → large region → region) with salespeople attached to regions.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

/// One node of the tree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TerritoryNode {
    /// Territory code, as recorded on customers, dealers and deals (e.g. `EAST`, `SH`).
    pub code: String,
    /// Display name (e.g. 华东大区, 上海办事处).
    pub name: String,
    /// Parent code; `None` for the root (the company).
    pub parent: Option<String>,
}

/// What is wrong with a tree or a lookup in it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[serde(tag = "error", rename_all = "snake_case")]
pub enum TreeError {
    /// Two nodes share a code.
    #[error("territory {0} appears twice")]
    DuplicateNode(String),
    /// A node's parent is not in the tree.
    #[error("territory {node} has unknown parent {parent}")]
    UnknownParent {
        /// The node.
        node: String,
        /// Its missing parent.
        parent: String,
    },
    /// Following parents from a node comes back to it.
    #[error("territory {0} is its own ancestor")]
    Cycle(String),
    /// A code that is not in the tree.
    #[error("no territory {0}")]
    UnknownNode(String),
    /// A salesperson attached to a region that is not in the tree.
    #[error("salesperson {user} is attached to unknown territory {region}")]
    UnknownRegionOf {
        /// The salesperson.
        user: String,
        /// The region.
        region: String,
    },
}

/// A checked territory tree: every parent exists and there are no cycles, so walks over it
/// always end. Several roots are allowed (a forest), though a company normally has one.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TerritoryTree {
    nodes: BTreeMap<String, TerritoryNode>,
    children: BTreeMap<String, Vec<String>>,
    salespeople: BTreeMap<String, String>,
}

impl TerritoryTree {
    /// Builds and checks a tree. `salespeople` maps a user name to the region they work in.
    pub fn new(
        nodes: Vec<TerritoryNode>,
        salespeople: BTreeMap<String, String>,
    ) -> Result<Self, TreeError> {
        let mut by_code = BTreeMap::new();
        for node in nodes {
            if by_code.contains_key(&node.code) {
                return Err(TreeError::DuplicateNode(node.code));
            }
            by_code.insert(node.code.clone(), node);
        }
        let mut children: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for node in by_code.values() {
            if let Some(parent) = &node.parent {
                if !by_code.contains_key(parent) {
                    return Err(TreeError::UnknownParent {
                        node: node.code.clone(),
                        parent: parent.clone(),
                    });
                }
                children
                    .entry(parent.clone())
                    .or_default()
                    .push(node.code.clone());
            }
        }
        // A walk up from any node must reach a root within `len` steps, else there is a cycle.
        for node in by_code.values() {
            let mut at = node.parent.as_ref();
            let mut steps = 0;
            while let Some(code) = at {
                steps += 1;
                if code == &node.code || steps > by_code.len() {
                    return Err(TreeError::Cycle(node.code.clone()));
                }
                at = by_code.get(code).and_then(|n| n.parent.as_ref());
            }
        }
        for (user, region) in &salespeople {
            if !by_code.contains_key(region) {
                return Err(TreeError::UnknownRegionOf {
                    user: user.clone(),
                    region: region.clone(),
                });
            }
        }
        Ok(Self {
            nodes: by_code,
            children,
            salespeople,
        })
    }

    /// The node with this code.
    pub fn node(&self, code: &str) -> Result<&TerritoryNode, TreeError> {
        self.nodes
            .get(code)
            .ok_or_else(|| TreeError::UnknownNode(code.to_string()))
    }

    /// The codes of the node and every node below it: a manager's scope.
    pub fn regions_under(&self, code: &str) -> Result<BTreeSet<String>, TreeError> {
        self.node(code)?;
        let mut out = BTreeSet::new();
        let mut stack = vec![code.to_string()];
        while let Some(at) = stack.pop() {
            if let Some(kids) = self.children.get(&at) {
                stack.extend(kids.iter().cloned());
            }
            out.insert(at);
        }
        Ok(out)
    }

    /// Every node of the subtree at `code`, depth first in code order: the node, then each
    /// child followed by its own subtree (the order a report lists them in).
    pub fn subtree(&self, code: &str) -> Result<Vec<String>, TreeError> {
        self.node(code)?;
        let mut out = Vec::new();
        let mut stack = vec![code.to_string()];
        while let Some(at) = stack.pop() {
            if let Some(kids) = self.children.get(&at) {
                stack.extend(kids.iter().rev().cloned());
            }
            out.push(at);
        }
        Ok(out)
    }

    /// The salespeople attached to regions within the node's subtree.
    pub fn salespeople_under(&self, code: &str) -> Result<BTreeSet<String>, TreeError> {
        let regions = self.regions_under(code)?;
        Ok(self
            .salespeople
            .iter()
            .filter(|(_, region)| regions.contains(*region))
            .map(|(user, _)| user.clone())
            .collect())
    }

    /// Whether a code is in the tree.
    pub fn contains(&self, code: &str) -> bool {
        self.nodes.contains_key(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(code: &str, parent: Option<&str>) -> TerritoryNode {
        TerritoryNode {
            code: code.into(),
            name: code.into(),
            parent: parent.map(Into::into),
        }
    }

    #[test]
    fn subtrees_and_people() {
        let tree = TerritoryTree::new(
            vec![
                node("CO", None),
                node("EAST", Some("CO")),
                node("SH", Some("EAST")),
                node("HZ", Some("EAST")),
                node("NORTH", Some("CO")),
                node("BJ", Some("NORTH")),
            ],
            [
                ("li".to_string(), "SH".to_string()),
                ("zhao".into(), "BJ".into()),
            ]
            .into(),
        )
        .unwrap();
        let east: Vec<_> = tree.regions_under("EAST").unwrap().into_iter().collect();
        assert_eq!(east, vec!["EAST", "HZ", "SH"]);
        assert_eq!(tree.regions_under("CO").unwrap().len(), 6);
        assert_eq!(tree.salespeople_under("EAST").unwrap().len(), 1);
        assert_eq!(
            tree.regions_under("XX"),
            Err(TreeError::UnknownNode("XX".into()))
        );
    }

    #[test]
    fn bad_trees_are_errors() {
        let none = BTreeMap::new();
        let cases = [
            (
                vec![node("A", None), node("A", None)],
                TreeError::DuplicateNode("A".into()),
            ),
            (
                vec![node("A", Some("Z"))],
                TreeError::UnknownParent {
                    node: "A".into(),
                    parent: "Z".into(),
                },
            ),
            (
                vec![node("A", Some("B")), node("B", Some("A"))],
                TreeError::Cycle("A".into()),
            ),
            (vec![node("A", Some("A"))], TreeError::Cycle("A".into())),
        ];
        for (nodes, expected) in cases {
            assert_eq!(TerritoryTree::new(nodes, none.clone()), Err(expected));
        }
        let stray = [("li".to_string(), "Q".to_string())].into();
        assert!(matches!(
            TerritoryTree::new(vec![node("A", None)], stray),
            Err(TreeError::UnknownRegionOf { .. })
        ));
    }
}
