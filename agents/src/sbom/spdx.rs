//! SPDX 2.3 JSON, written with serde: one package per component and one
//! for the repository, which the document describes, with `DEPENDS_ON`
//! relationships from the lock files' graph.

use serde::Serialize;

use super::{Package, SbomError, Source, Subject, content_uuid, normalise};

/// The SPDX version written.
pub const SPDX_VERSION: &str = "SPDX-2.3";

const NOASSERTION: &str = "NOASSERTION";
const DOCUMENT_ID: &str = "SPDXRef-DOCUMENT";
const ROOT_ID: &str = "SPDXRef-Repository";

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document {
    spdx_version: &'static str,
    data_license: &'static str,
    #[serde(rename = "SPDXID")]
    spdx_id: &'static str,
    name: String,
    document_namespace: String,
    creation_info: CreationInfo,
    packages: Vec<SpdxPackage>,
    relationships: Vec<Relationship>,
}

#[derive(Serialize)]
struct CreationInfo {
    created: String,
    creators: Vec<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SpdxPackage {
    #[serde(rename = "SPDXID")]
    spdx_id: String,
    name: String,
    version_info: String,
    download_location: String,
    files_analyzed: bool,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    checksums: Vec<Checksum>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    external_refs: Vec<ExternalRef>,
    primary_package_purpose: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    source_info: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    comment: Option<String>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Checksum {
    algorithm: &'static str,
    checksum_value: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ExternalRef {
    reference_category: &'static str,
    reference_type: &'static str,
    reference_locator: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Relationship {
    spdx_element_id: String,
    relationship_type: &'static str,
    related_spdx_element: String,
}

/// An SPDX 2.3 JSON document of `packages` and `subject`. Its namespace is a
/// name-based UUID of the rest of the document, so the same input always
/// gives the same bytes.
pub fn spdx_json(packages: &[Package], subject: &Subject) -> Result<Vec<u8>, SbomError> {
    let packages = normalise(packages);
    let mut doc = document(&packages, subject);
    let unnamed = render(&doc)?;
    doc.document_namespace = format!("urn:uuid:{}", content_uuid(&unnamed));
    render(&doc)
}

fn document(packages: &[Package], subject: &Subject) -> Document {
    let ids: std::collections::BTreeMap<&str, String> = packages.iter().map(|p| (p.purl.as_str(), spdx_id(p))).collect();
    let relate = |from: &str, kind, to: &str| Relationship { spdx_element_id: from.to_owned(), relationship_type: kind, related_spdx_element: to.to_owned() };
    let mut relationships = vec![relate(DOCUMENT_ID, "DESCRIBES", ROOT_ID)];
    relationships.extend(packages.iter().filter(|p| p.direct).map(|p| relate(ROOT_ID, "DEPENDS_ON", &ids[p.purl.as_str()])));
    for p in packages {
        let deps = p.dependencies.iter().flatten().filter_map(|d| ids.get(d.as_str()));
        relationships.extend(deps.map(|d| relate(&ids[p.purl.as_str()], "DEPENDS_ON", d)));
    }
    let mut listed = vec![root(subject)];
    listed.extend(packages.iter().map(|p| package(p, ids[p.purl.as_str()].clone())));
    Document {
        spdx_version: SPDX_VERSION,
        data_license: "CC0-1.0",
        spdx_id: DOCUMENT_ID,
        name: format!("{}-{}", subject.name, subject.version),
        document_namespace: String::new(),
        creation_info: CreationInfo { created: subject.created.to_string(), creators: vec![format!("Tool: conductor-{}", env!("CARGO_PKG_VERSION"))] },
        packages: listed,
        relationships,
    }
}

/// `SPDXRef-<type>-<name>-<short hash of the purl>`: readable, stable when
/// other packages come and go, and unique even where two names sanitise
/// alike.
fn spdx_id(p: &Package) -> String {
    let readable: String = p.name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '.' { c } else { '-' }).collect();
    let digest = evidence::digest::Sha256::of(p.purl.as_bytes()).to_hex();
    format!("SPDXRef-{}-{}-{}", p.ecosystem.purl_type(), readable.trim_matches('-'), &digest[..12])
}

fn root(subject: &Subject) -> SpdxPackage {
    SpdxPackage {
        spdx_id: ROOT_ID.to_owned(),
        name: subject.name.clone(),
        version_info: subject.version.clone(),
        download_location: NOASSERTION.to_owned(),
        files_analyzed: false,
        checksums: Vec::new(),
        external_refs: Vec::new(),
        primary_package_purpose: "APPLICATION",
        source_info: subject.commit.as_ref().map(|c| format!("git commit {c}")),
        comment: None,
    }
}

fn package(p: &Package, spdx_id: String) -> SpdxPackage {
    let download_location = match &p.source {
        Source::Vcs(url) => url.clone(),
        Source::Registry(url) if url.ends_with(".tgz") => url.clone(),
        _ => NOASSERTION.to_owned(),
    };
    let source_info = match &p.source {
        Source::Registry(url) => Some(format!("from the registry {url}")),
        Source::Local(path) => Some(format!("the repository's own code at '{}'", if path.is_empty() { "." } else { path })),
        Source::Vcs(_) | Source::Unstated => None,
    };
    let mut notes: Vec<String> = p.properties.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    if p.scope == super::Scope::Optional {
        notes.insert(0, "not needed at run time (development or optional)".to_owned());
    }
    SpdxPackage {
        spdx_id,
        name: p.name.clone(),
        version_info: p.version.clone(),
        download_location,
        files_analyzed: false,
        checksums: p.hashes.iter().map(|h| Checksum { algorithm: h.alg.spdx(), checksum_value: h.hex.clone() }).collect(),
        external_refs: vec![ExternalRef { reference_category: "PACKAGE-MANAGER", reference_type: "purl", reference_locator: p.purl.clone() }],
        primary_package_purpose: if p.is_local() { "APPLICATION" } else { "LIBRARY" },
        source_info,
        comment: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

fn render(doc: &Document) -> Result<Vec<u8>, SbomError> {
    let mut out = serde_json::to_vec_pretty(doc).map_err(|e| SbomError::Document { detail: e.to_string() })?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::{Ecosystem, Hash, HashAlg, Scope};
    use serde_json::Value;

    #[test]
    fn writes_packages_checksums_purls_and_relationships() {
        let mut a = Package::new(Ecosystem::Npm, "@babel/runtime", "7.24.4", Source::Registry("https://registry.npmjs.org/@babel/runtime/-/runtime-7.24.4.tgz".into()));
        a.hashes.push(Hash::from_hex(HashAlg::Sha512, &"ab".repeat(64)).unwrap());
        a.direct = true;
        a.dependencies = Some(vec!["pkg:npm/ms@2.1.3".into()]);
        let mut ms = Package::new(Ecosystem::Npm, "ms", "2.1.3", Source::Unstated);
        ms.scope = Scope::Optional;
        let subject = Subject { name: "web".into(), version: "v2.0.0".into(), commit: Some("b".repeat(40)), created: evidence::timestamp::Timestamp::from_unix(0).unwrap() };
        let bytes = spdx_json(&[ms.clone(), a.clone()], &subject).unwrap();
        assert_eq!(bytes, spdx_json(&[a, ms], &subject).unwrap());
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(doc["spdxVersion"], "SPDX-2.3");
        assert!(doc["documentNamespace"].as_str().unwrap().starts_with("urn:uuid:"));
        assert_eq!(doc["creationInfo"]["created"], "1970-01-01T00:00:00Z");
        let babel = &doc["packages"][1];
        assert_eq!(babel["checksums"][0]["algorithm"], "SHA512");
        assert_eq!(babel["externalRefs"][0]["referenceLocator"], "pkg:npm/%40babel/runtime@7.24.4");
        assert_eq!(babel["downloadLocation"], "https://registry.npmjs.org/@babel/runtime/-/runtime-7.24.4.tgz");
        assert!(babel["SPDXID"].as_str().unwrap().starts_with("SPDXRef-npm-babel-runtime-"));
        let kinds: Vec<(&str, &str)> = doc["relationships"].as_array().unwrap().iter().map(|r| (r["spdxElementId"].as_str().unwrap(), r["relationshipType"].as_str().unwrap())).collect();
        assert_eq!(kinds.len(), 3);
        assert_eq!(kinds[0], ("SPDXRef-DOCUMENT", "DESCRIBES"));
        assert_eq!(kinds[1], ("SPDXRef-Repository", "DEPENDS_ON"));
    }
}
