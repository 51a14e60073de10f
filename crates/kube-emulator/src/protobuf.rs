//! Just enough of the Kubernetes protobuf encoding to accept the Secrets and ConfigMaps that typed clients
//! (Helm's release storage, `kubectl create secret|configmap`) send: the `k8s\0` envelope, `ObjectMeta`'s
//! common fields, and the two kinds' data; Namespaces and ServiceAccounts with their metadata (`kubectl
//! create namespace|serviceaccount`). Other kinds sent as protobuf are refused with 415.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value, json};

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

enum Field<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, at: 0 }
    }

    fn varint(&mut self) -> Option<u64> {
        let mut value = 0u64;
        for shift in (0..64).step_by(7) {
            let byte = *self.bytes.get(self.at)?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                return Some(value);
            }
        }
        None
    }

    fn next(&mut self) -> Option<(u64, Field<'a>)> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let key = self.varint()?;
        let field = match key & 7 {
            0 => Field::Varint(self.varint()?),
            2 => {
                let len = usize::try_from(self.varint()?).ok()?;
                let slice = self.bytes.get(self.at..self.at + len)?;
                self.at += len;
                Field::Bytes(slice)
            }
            1 => {
                self.at += 8;
                Field::Varint(0)
            }
            5 => {
                self.at += 4;
                Field::Varint(0)
            }
            _ => return None,
        };
        Some((key >> 3, field))
    }
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A `map<string, T>` entry: key (1), value (2).
fn entry(bytes: &[u8]) -> (String, Vec<u8>) {
    let mut reader = Reader::new(bytes);
    let (mut key, mut value) = (String::new(), Vec::new());
    while let Some((number, field)) = reader.next() {
        if let Field::Bytes(b) = field {
            match number {
                1 => key = text(b),
                2 => value = b.to_vec(),
                _ => {}
            }
        }
    }
    (key, value)
}

fn object_meta(bytes: &[u8]) -> Value {
    let mut reader = Reader::new(bytes);
    let mut meta = Map::new();
    let mut labels = BTreeMap::new();
    let mut annotations = BTreeMap::new();
    let mut finalizers = Vec::new();
    while let Some((number, field)) = reader.next() {
        match (number, field) {
            (1, Field::Bytes(b)) => {
                meta.insert("name".into(), json!(text(b)));
            }
            (2, Field::Bytes(b)) => {
                meta.insert("generateName".into(), json!(text(b)));
            }
            (3, Field::Bytes(b)) => {
                meta.insert("namespace".into(), json!(text(b)));
            }
            (6, Field::Bytes(b)) if !b.is_empty() => {
                meta.insert("resourceVersion".into(), json!(text(b)));
            }
            (11, Field::Bytes(b)) => {
                let (k, v) = entry(b);
                labels.insert(k, text(&v));
            }
            (12, Field::Bytes(b)) => {
                let (k, v) = entry(b);
                annotations.insert(k, text(&v));
            }
            (14, Field::Bytes(b)) => finalizers.push(text(b)),
            _ => {}
        }
    }
    if !labels.is_empty() {
        meta.insert("labels".into(), json!(labels));
    }
    if !annotations.is_empty() {
        meta.insert("annotations".into(), json!(annotations));
    }
    if !finalizers.is_empty() {
        meta.insert("finalizers".into(), json!(finalizers));
    }
    Value::Object(meta)
}

/// Decodes a protobuf body into JSON, or `None` when it is not a Secret, ConfigMap, Namespace or
/// ServiceAccount (the last two: metadata only, what `kubectl create namespace|serviceaccount` send).
pub fn decode(body: &[u8]) -> Option<Value> {
    let body = body.strip_prefix(b"k8s\0")?;
    let mut reader = Reader::new(body);
    let (mut api_version, mut kind, mut raw) = (String::new(), String::new(), &[][..]);
    while let Some((number, field)) = reader.next() {
        match (number, field) {
            (1, Field::Bytes(type_meta)) => {
                let mut inner = Reader::new(type_meta);
                while let Some((n, f)) = inner.next() {
                    match (n, f) {
                        (1, Field::Bytes(b)) => api_version = text(b),
                        (2, Field::Bytes(b)) => kind = text(b),
                        _ => {}
                    }
                }
            }
            (2, Field::Bytes(b)) => raw = b,
            _ => {}
        }
    }
    if api_version != "v1"
        || !matches!(
            kind.as_str(),
            "Secret" | "ConfigMap" | "Namespace" | "ServiceAccount"
        )
    {
        return None;
    }
    let mut object = json!({"apiVersion": "v1", "kind": kind, "metadata": {}});
    let mut data = Map::new();
    let mut reader = Reader::new(raw);
    while let Some((number, field)) = reader.next() {
        match (kind.as_str(), number, field) {
            (_, 1, Field::Bytes(b)) => object["metadata"] = object_meta(b),
            ("Secret", 2, Field::Bytes(b)) => {
                let (k, v) = entry(b);
                data.insert(k, json!(base64::engine::general_purpose::STANDARD.encode(v)));
            }
            ("Secret", 3, Field::Bytes(b)) => object["type"] = json!(text(b)),
            ("ConfigMap", 2, Field::Bytes(b)) => {
                let (k, v) = entry(b);
                data.insert(k, json!(text(&v)));
            }
            (_, 5 | 4, Field::Varint(v)) => object["immutable"] = json!(v != 0),
            _ => {}
        }
    }
    if !data.is_empty() {
        object["data"] = Value::Object(data);
    }
    Some(object)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(number: u8, bytes: &[u8]) -> Vec<u8> {
        let mut out = vec![(number << 3) | 2, u8::try_from(bytes.len()).unwrap()];
        out.extend_from_slice(bytes);
        out
    }

    #[test]
    fn decodes_a_secret() {
        let label = [field(1, b"owner"), field(2, b"helm")].concat();
        let meta = [
            field(1, b"sh.helm.release.v1.probe.v1"),
            field(3, b"default"),
            field(11, &label),
        ]
        .concat();
        let data = [field(1, b"release"), field(2, b"\x00\x01")].concat();
        let secret = [field(1, &meta), field(2, &data), field(3, b"helm.sh/release.v1")].concat();
        let type_meta = [field(1, b"v1"), field(2, b"Secret")].concat();
        let body = [b"k8s\0".to_vec(), field(1, &type_meta), field(2, &secret)].concat();
        let object = decode(&body).unwrap();
        assert_eq!(object["metadata"]["name"], "sh.helm.release.v1.probe.v1");
        assert_eq!(object["metadata"]["labels"]["owner"], "helm");
        assert_eq!(object["data"]["release"], "AAE=");
        assert_eq!(object["type"], "helm.sh/release.v1");
    }
}
