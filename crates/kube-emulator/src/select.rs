//! Label and field selectors, as `kubectl -l` and kube-rs send them.

use serde_json::Value;

/// One term of a label selector.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Term {
    Equals(String, String),
    NotEquals(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed label selector (all terms must match).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector(Vec<Term>);

fn split_terms(text: &str) -> Vec<String> {
    let mut terms = Vec::new();
    let mut depth = 0;
    let mut current = String::new();
    for c in text.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                terms.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(c);
    }
    terms.push(current);
    terms
        .into_iter()
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .collect()
}

fn set_values(text: &str) -> Option<Vec<String>> {
    let inner = text.trim().strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

impl LabelSelector {
    /// Parses `a=b,c!=d,e in (f,g),h notin (i),j,!k`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for term in split_terms(text) {
            let parsed = if let Some(key) = term.strip_prefix('!') {
                Term::NotExists(key.trim().to_owned())
            } else if let Some((key, rest)) = term.split_once(" notin ") {
                Term::NotIn(
                    key.trim().to_owned(),
                    set_values(rest).ok_or(format!("bad selector {term:?}"))?,
                )
            } else if let Some((key, rest)) = term.split_once(" in ") {
                Term::In(
                    key.trim().to_owned(),
                    set_values(rest).ok_or(format!("bad selector {term:?}"))?,
                )
            } else if let Some((key, value)) = term.split_once("!=") {
                Term::NotEquals(key.trim().to_owned(), value.trim().to_owned())
            } else if let Some((key, value)) = term.split_once("==").or_else(|| term.split_once('=')) {
                Term::Equals(key.trim().to_owned(), value.trim().to_owned())
            } else {
                Term::Exists(term.clone())
            };
            terms.push(parsed);
        }
        Ok(Self(terms))
    }

    /// Whether the object's labels match.
    pub fn matches(&self, object: &Value) -> bool {
        let labels = &object["metadata"]["labels"];
        let get = |k: &str| labels.get(k).and_then(Value::as_str);
        self.0.iter().all(|term| match term {
            Term::Equals(k, v) => get(k) == Some(v.as_str()),
            Term::NotEquals(k, v) => get(k) != Some(v.as_str()),
            Term::In(k, vs) => get(k).is_some_and(|x| vs.iter().any(|v| v == x)),
            Term::NotIn(k, vs) => get(k).is_none_or(|x| vs.iter().all(|v| v != x)),
            Term::Exists(k) => get(k).is_some(),
            Term::NotExists(k) => get(k).is_none(),
        })
    }
}

/// A field selector on `metadata.name` and `metadata.namespace` (`=`, `==`, `!=`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

impl FieldSelector {
    /// Parses the selector. Any dotted field path is accepted (`metadata.name`, `involvedObject.uid`,
    /// `type`, ...), where the real server accepts a fixed list per resource.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut terms = Vec::new();
        for term in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (field, equal, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = term.split_once("==").or_else(|| term.split_once('=')) {
                (f, true, v)
            } else {
                return Err(format!("invalid field selector {term:?}"));
            };
            let label = field.trim();
            if label.is_empty() || !label.chars().all(|c| c.is_ascii_alphanumeric() || c == '.') {
                return Err(format!("field label not supported: {label}"));
            }
            terms.push((field.trim().to_owned(), equal, value.trim().to_owned()));
        }
        Ok(Self(terms))
    }

    /// Whether the selector has no terms (matches everything).
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether the object matches.
    pub fn matches(&self, object: &Value) -> bool {
        self.0.iter().all(|(field, equal, value)| {
            let found = field.split('.').try_fold(object, |v, part| v.get(part));
            let actual = match found {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Null) | None => String::new(),
                Some(other) => other.to_string(),
            };
            (actual == *value) == *equal
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn label_selectors() {
        let object = json!({"metadata": {"labels": {"app": "web", "tier": "front"}}});
        for (selector, expected) in [
            ("app=web", true),
            ("app==web,tier!=back", true),
            ("app in (web,api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing,app", true),
            ("app=api", false),
        ] {
            assert_eq!(
                LabelSelector::parse(selector).unwrap().matches(&object),
                expected,
                "{selector}"
            );
        }
    }

    #[test]
    fn field_selectors() {
        let object = json!({"metadata": {"name": "a", "namespace": "n"}});
        assert!(FieldSelector::parse("metadata.name=a").unwrap().matches(&object));
        assert!(
            !FieldSelector::parse("metadata.namespace!=n")
                .unwrap()
                .matches(&object)
        );
        assert!(FieldSelector::parse("spec x=1").is_err());
        assert!(
            FieldSelector::parse("involvedObject.name=a")
                .unwrap()
                .matches(&serde_json::json!({"involvedObject": {"name": "a"}}))
        );
    }
}
