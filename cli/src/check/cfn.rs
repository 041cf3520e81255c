//! Reading a CloudFormation/SAM template: YAML accessors, the intrinsic functions that can be
//! evaluated before deployment, and the parameter assignments a value depends on.

use std::collections::{BTreeMap, BTreeSet};

use serde_norway::Value as Yaml;

/// A key of a YAML mapping.
pub(super) fn get<'a>(v: &'a Yaml, key: &str) -> Option<&'a Yaml> {
    match v {
        Yaml::Mapping(m) => m.get(key),
        _ => None,
    }
}

pub(super) fn entries(v: Option<&Yaml>) -> Vec<(String, &Yaml)> {
    match v {
        Some(Yaml::Mapping(m)) => m
            .iter()
            .filter_map(|(k, v)| scalar(k).map(|k| (k, v)))
            .collect(),
        _ => Vec::new(),
    }
}

pub(super) fn scalar(v: &Yaml) -> Option<String> {
    match v {
        Yaml::String(s) => Some(s.clone()),
        Yaml::Number(n) => Some(n.to_string()),
        Yaml::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// An intrinsic function: `!Ref X`, `!GetAtt A.B`, or the long form `{"Fn::GetAtt": ...}`.
pub(super) fn intrinsic(v: &Yaml) -> Option<(String, &Yaml)> {
    match v {
        Yaml::Tagged(t) => {
            let tag = t.tag.to_string();
            let tag = tag.trim_start_matches('!');
            let name = if matches!(tag, "Ref" | "Condition") {
                tag.to_owned()
            } else {
                format!("Fn::{tag}")
            };
            Some((name, &t.value))
        }
        Yaml::Mapping(m) if m.len() == 1 => {
            let (k, v) = m.iter().next()?;
            let k = k.as_str()?;
            (k == "Ref" || k == "Condition" || k.starts_with("Fn::")).then(|| (k.to_owned(), v))
        }
        _ => None,
    }
}

/// The logical name `!Ref X` or `!GetAtt X.Arn` points at.
pub(super) fn referenced(v: &Yaml) -> Option<String> {
    let (f, arg) = intrinsic(v)?;
    match (f.as_str(), arg) {
        ("Ref", Yaml::String(name)) => Some(name.clone()),
        ("Fn::GetAtt", Yaml::String(s)) => s.split('.').next().map(str::to_owned),
        ("Fn::GetAtt", Yaml::Sequence(parts)) => parts.first().and_then(scalar),
        _ => None,
    }
}

/// A value with every intrinsic CloudFormation can evaluate before deployment evaluated:
/// `Ref` to parameters, `FindInMap`, `If`, and conditions (`Equals`, `Not`, `And`, `Or`).
#[derive(Clone, Debug, PartialEq)]
pub(super) enum Ev {
    Scalar(String),
    List(Vec<Ev>),
    NoValue,
}

/// A template with one assignment of its parameters.
pub(super) struct Cfn<'a> {
    pub(super) root: &'a Yaml,
    pub(super) params: BTreeMap<String, String>,
}

/// Deep enough for any real template; a cycle of conditions stops here instead of the stack.
pub(super) const MAX_EVAL_DEPTH: u8 = 32;

impl Cfn<'_> {
    pub(super) fn eval(&self, v: &Yaml, depth: u8) -> Option<Ev> {
        if depth > MAX_EVAL_DEPTH {
            return None;
        }
        let d = depth + 1;
        if let Some((f, arg)) = intrinsic(v) {
            let args = match arg {
                Yaml::Sequence(s) => s.as_slice(),
                other => std::slice::from_ref(other),
            };
            return match (f.as_str(), args) {
                ("Ref", [Yaml::String(name)]) if name == "AWS::NoValue" => Some(Ev::NoValue),
                ("Ref", [Yaml::String(name)]) => self.params.get(name).cloned().map(Ev::Scalar),
                ("Fn::FindInMap", [map, k1, k2]) => {
                    let key = |v: &Yaml| match self.eval(v, d) {
                        Some(Ev::Scalar(s)) => Some(s),
                        _ => None,
                    };
                    let (map, k1, k2) = (key(map)?, key(k1)?, key(k2)?);
                    let found = entries(get(self.root, "Mappings"))
                        .into_iter()
                        .find(|(k, _)| *k == map)
                        .and_then(|(_, m)| entries(Some(m)).into_iter().find(|(k, _)| *k == k1))
                        .and_then(|(_, m)| entries(Some(m)).into_iter().find(|(k, _)| *k == k2))?;
                    self.eval(found.1, d)
                }
                ("Fn::If", [Yaml::String(cond), then, other]) => {
                    if self.condition(cond, d)? {
                        self.eval(then, d)
                    } else {
                        self.eval(other, d)
                    }
                }
                ("Condition", [Yaml::String(cond)]) => {
                    self.condition(cond, d).map(|b| Ev::Scalar(b.to_string()))
                }
                ("Fn::Equals", [a, b]) => {
                    let (a, b) = (self.eval(a, d)?, self.eval(b, d)?);
                    Some(Ev::Scalar((a == b).to_string()))
                }
                ("Fn::Not", [a]) => Some(Ev::Scalar((!self.truth(a, d)?).to_string())),
                ("Fn::And", list) => {
                    let all: Option<Vec<bool>> = list.iter().map(|a| self.truth(a, d)).collect();
                    Some(Ev::Scalar(all?.iter().all(|b| *b).to_string()))
                }
                ("Fn::Or", list) => {
                    let all: Option<Vec<bool>> = list.iter().map(|a| self.truth(a, d)).collect();
                    Some(Ev::Scalar(all?.iter().any(|b| *b).to_string()))
                }
                _ => None,
            };
        }
        match v {
            Yaml::Sequence(items) => {
                let mut out = Vec::new();
                for item in items {
                    match self.eval(item, d)? {
                        Ev::NoValue => {}
                        ev => out.push(ev),
                    }
                }
                Some(Ev::List(out))
            }
            other => scalar(other).map(Ev::Scalar),
        }
    }

    pub(super) fn truth(&self, v: &Yaml, depth: u8) -> Option<bool> {
        match self.eval(v, depth)? {
            Ev::Scalar(s) => Some(s == "true"),
            _ => None,
        }
    }

    pub(super) fn condition(&self, name: &str, depth: u8) -> Option<bool> {
        let cond = get(get(self.root, "Conditions")?, name)?;
        self.truth(cond, depth)
    }

    pub(super) fn number(&self, v: &Yaml) -> Option<u64> {
        match self.eval(v, 0)? {
            Ev::Scalar(s) => s.parse().ok(),
            _ => None,
        }
    }
}

/// Parameters and conditions a value depends on, followed through conditions.
pub(super) fn dependencies(
    root: &Yaml,
    v: &Yaml,
    params: &mut BTreeSet<String>,
    seen: &mut BTreeSet<String>,
) {
    let mut follow_condition = |name: &str, params: &mut BTreeSet<String>| {
        if seen.insert(name.to_owned())
            && let Some(cond) = get(root, "Conditions").and_then(|c| get(c, name))
        {
            let cond = cond.clone();
            dependencies(root, &cond, params, seen);
        }
    };
    if let Some((f, arg)) = intrinsic(v) {
        match (f.as_str(), arg) {
            ("Ref", Yaml::String(name)) => {
                params.insert(name.clone());
            }
            ("Condition", Yaml::String(name)) => follow_condition(name, params),
            ("Fn::If", Yaml::Sequence(items)) => {
                if let Some(Yaml::String(name)) = items.first() {
                    follow_condition(name, params);
                }
                for item in items.iter().skip(1) {
                    dependencies(root, item, params, seen);
                }
            }
            (_, arg) => dependencies(root, arg, params, seen),
        }
        return;
    }
    match v {
        Yaml::Sequence(items) => {
            for item in items {
                dependencies(root, item, params, seen);
            }
        }
        Yaml::Mapping(m) => {
            for item in m.values() {
                dependencies(root, item, params, seen);
            }
        }
        _ => {}
    }
}

/// The values worth trying for a parameter: its `AllowedValues`, or its default and bounds.
pub(super) fn candidates(root: &Yaml, name: &str) -> Vec<String> {
    let Some(p) = get(root, "Parameters").and_then(|p| get(p, name)) else {
        return Vec::new();
    };
    let mut out: Vec<String> = match get(p, "AllowedValues") {
        Some(Yaml::Sequence(values)) => values.iter().filter_map(scalar).collect(),
        _ => ["Default", "MinValue", "MaxValue"]
            .iter()
            .filter_map(|k| get(p, k).and_then(scalar))
            .collect(),
    };
    out.dedup();
    out
}

pub(super) fn defaults(root: &Yaml) -> BTreeMap<String, String> {
    entries(get(root, "Parameters"))
        .into_iter()
        .filter_map(|(name, p)| get(p, "Default").and_then(scalar).map(|d| (name, d)))
        .collect()
}

/// Every assignment of the parameters `values` depend on (at most `MAX_ASSIGNMENTS`), each
/// parameter taking each of its [`candidates`]; `None` when there would be more.
pub(super) fn assignments(root: &Yaml, values: &[&Yaml]) -> Option<Vec<BTreeMap<String, String>>> {
    const MAX_ASSIGNMENTS: usize = 4096;
    let (mut params, mut seen) = (BTreeSet::new(), BTreeSet::new());
    for v in values {
        dependencies(root, v, &mut params, &mut seen);
    }
    let mut out = vec![defaults(root)];
    for name in params {
        let values = candidates(root, &name);
        if values.is_empty() {
            continue;
        }
        let mut next = Vec::new();
        for base in &out {
            for value in &values {
                let mut a = base.clone();
                a.insert(name.clone(), value.clone());
                next.push(a);
            }
        }
        if next.len() > MAX_ASSIGNMENTS {
            return None;
        }
        out = next;
    }
    Some(out)
}
