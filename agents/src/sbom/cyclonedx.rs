//! CycloneDX JSON through the `cyclonedx-bom` model types.
//!
//! cyclonedx-bom 0.8 models and writes specification 1.5, the newest it
//! knows. Every field written here has the same meaning and schema in 1.6,
//! which only adds to 1.5, so the writer's JSON is declared 1.6 by setting
//! `specVersion`; the tests check the result against the 1.6 schema with an
//! independent validator.

use std::str::FromStr;

use cyclonedx_bom::models::component::{Classification, Scope as CdxScope};
use cyclonedx_bom::models::dependency::{Dependencies, Dependency};
use cyclonedx_bom::models::hash::{Hash as CdxHash, HashAlgorithm, HashValue, Hashes};
use cyclonedx_bom::models::property::{Properties, Property};
use cyclonedx_bom::models::tool::Tools;
use cyclonedx_bom::prelude::{Bom, Component, Components, DateTime, Metadata, Purl, SpecVersion, UrnUuid, Validate};
use serde_json::Value;

use super::{Package, SbomError, Scope, Source, Subject, content_uuid, normalise};

/// The CycloneDX specification version written.
pub const CYCLONEDX_SPEC_VERSION: &str = "1.6";

/// The property naming the repository's commit on the root component.
const COMMIT_PROPERTY: &str = "conductor:git:commit";

/// A CycloneDX 1.6 JSON document listing `packages` as components of
/// `subject`, with the dependency graph the lock files record. The serial
/// number is a name-based UUID of the rest of the document, so the same
/// input always gives the same bytes.
pub fn cyclonedx_json(packages: &[Package], subject: &Subject) -> Result<Vec<u8>, SbomError> {
    let packages = normalise(packages);
    let mut bom = bom(&packages, subject)?;
    let unnumbered = render(bom.clone())?;
    bom.serial_number = Some(UrnUuid::from(content_uuid(&unnumbered)));
    render(bom)
}

fn bom(packages: &[Package], subject: &Subject) -> Result<Bom, SbomError> {
    let timestamp = DateTime::try_from(subject.created.to_string()).map_err(|e| SbomError::Document { detail: e.to_string() })?;
    let tool = Component::new(Classification::Application, "conductor", env!("CARGO_PKG_VERSION"), None);
    let metadata = Metadata {
        timestamp: Some(timestamp),
        tools: Some(Tools::Object { services: None, components: Some(Components(vec![tool])) }),
        component: Some(root(subject)),
        ..Metadata::default()
    };
    let mut graph = vec![Dependency { dependency_ref: root_ref(subject), dependencies: packages.iter().filter(|p| p.direct).map(|p| p.purl.clone()).collect() }];
    graph.extend(packages.iter().filter_map(|p| Some(Dependency { dependency_ref: p.purl.clone(), dependencies: p.dependencies.clone()? })));
    Ok(Bom {
        version: 1,
        serial_number: None,
        metadata: Some(metadata),
        components: Some(Components(packages.iter().map(component).collect())),
        services: None,
        external_references: None,
        dependencies: Some(Dependencies(graph)),
        compositions: None,
        properties: None,
        vulnerabilities: None,
        signature: None,
        annotations: None,
        formulation: None,
        spec_version: SpecVersion::V1_5,
    })
}

/// The repository's reference in the graph; package references are purls,
/// so it cannot collide with one.
fn root_ref(subject: &Subject) -> String {
    format!("{}@{}", subject.name, subject.version)
}

fn root(subject: &Subject) -> Component {
    let mut root = Component::new(Classification::Application, &subject.name, &subject.version, Some(root_ref(subject)));
    if let Some(commit) = &subject.commit {
        root.properties = Some(Properties(vec![Property::new(COMMIT_PROPERTY, commit)]));
    }
    root
}

fn component(p: &Package) -> Component {
    let mut c = Component::new(Classification::Library, &p.name, &p.version, Some(p.purl.clone()));
    // Purl's FromStr keeps the text as it is and cannot fail.
    c.purl = Purl::from_str(&p.purl).ok();
    c.scope = Some(match p.scope {
        Scope::Required => CdxScope::Required,
        Scope::Optional => CdxScope::Optional,
    });
    if !p.hashes.is_empty() {
        let hashes = p.hashes.iter().map(|h| CdxHash { alg: HashAlgorithm::new_unchecked(h.alg.cyclonedx()), content: HashValue(h.hex.clone()) });
        c.hashes = Some(Hashes(hashes.collect()));
    }
    let source = match &p.source {
        Source::Registry(url) => Some(("conductor:source:registry", url.as_str())),
        Source::Vcs(url) => Some(("conductor:source:vcs", url.as_str())),
        Source::Local(path) => Some(("conductor:source:local", if path.is_empty() { "." } else { path.as_str() })),
        Source::Unstated => None,
    };
    let properties: Vec<Property> = source.into_iter().chain(p.properties.iter().map(|(k, v)| (k.as_str(), v.as_str()))).map(|(k, v)| Property::new(k, v)).collect();
    if !properties.is_empty() {
        c.properties = Some(Properties(properties));
    }
    c
}

/// The writer's checks, its 1.5 JSON, and that JSON declared 1.6.
fn render(bom: Bom) -> Result<Vec<u8>, SbomError> {
    let checked = bom.validate_version(SpecVersion::V1_5);
    if !checked.passed() {
        return Err(SbomError::Document { detail: format!("{checked:?}") });
    }
    let mut written = Vec::new();
    bom.output_as_json_v1_5(&mut written).map_err(|e| SbomError::Document { detail: e.to_string() })?;
    let mut doc: Value = serde_json::from_slice(&written).map_err(|e| SbomError::Document { detail: e.to_string() })?;
    doc["specVersion"] = Value::from(CYCLONEDX_SPEC_VERSION);
    let mut out = serde_json::to_vec_pretty(&doc).map_err(|e| SbomError::Document { detail: e.to_string() })?;
    out.push(b'\n');
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sbom::{Ecosystem, Hash, HashAlg};

    fn subject() -> Subject {
        Subject { name: "service".into(), version: "v1.2.0".into(), commit: Some("a".repeat(40)), created: evidence::timestamp::Timestamp::from_unix(1_700_000_000).unwrap() }
    }

    fn packages() -> Vec<Package> {
        let mut serde = Package::new(Ecosystem::Cargo, "serde", "1.0.210", Source::Registry("https://github.com/rust-lang/crates.io-index".into()));
        serde.hashes.push(Hash::from_hex(HashAlg::Sha256, &"c8".repeat(32)).unwrap());
        serde.dependencies = Some(vec![]);
        let mut app = Package::new(Ecosystem::Cargo, "service", "0.1.0", Source::Local(String::new()));
        app.direct = true;
        app.dependencies = Some(vec![serde.purl.clone(), "pkg:cargo/not-listed@1.0.0".into()]);
        let mut mux = Package::new(Ecosystem::Go, "github.com/gorilla/mux", "v1.8.1", Source::Unstated);
        mux.properties.push(("conductor:go:dirhash".into(), "h1:TuBL49tXwgrFYWhqrNgrUNEY92u81SPhu7sTdzQEiWY=".into()));
        mux.direct = true;
        vec![mux, app, serde]
    }

    #[test]
    fn writes_a_deterministic_1_6_document() {
        let bytes = cyclonedx_json(&packages(), &subject()).unwrap();
        let mut reversed = packages();
        reversed.reverse();
        assert_eq!(bytes, cyclonedx_json(&reversed, &subject()).unwrap(), "input order does not matter");
        let doc: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!((doc["bomFormat"].as_str(), doc["specVersion"].as_str()), (Some("CycloneDX"), Some("1.6")));
        let serial = doc["serialNumber"].as_str().unwrap();
        assert!(serial.starts_with("urn:uuid:") && serial.as_bytes()[23] == b'5', "{serial}");
        assert_eq!(doc["metadata"]["timestamp"], "2023-11-14T22:13:20Z");
        assert_eq!(doc["metadata"]["tools"]["components"][0]["name"], "conductor");
        assert_eq!(doc["metadata"]["component"]["name"], "service");
        assert_eq!(doc["metadata"]["component"]["properties"][0]["value"], "a".repeat(40));
        let purls: Vec<&str> = doc["components"].as_array().unwrap().iter().map(|c| c["purl"].as_str().unwrap()).collect();
        assert_eq!(purls, ["pkg:cargo/serde@1.0.210", "pkg:cargo/service@0.1.0", "pkg:golang/github.com/gorilla/mux@v1.8.1"]);
        assert_eq!(doc["components"][0]["hashes"][0]["alg"], "SHA-256");
        assert!(doc["components"][2].get("hashes").is_none(), "a go.sum h1 is not a file hash");
        let graph = doc["dependencies"].as_array().unwrap();
        assert_eq!(graph[0]["ref"], "service@v1.2.0");
        assert_eq!(graph[0]["dependsOn"].as_array().unwrap().len(), 2);
        let app = graph.iter().find(|d| d["ref"] == "pkg:cargo/service@0.1.0").unwrap();
        assert_eq!(app["dependsOn"], serde_json::json!(["pkg:cargo/serde@1.0.210"]), "edges to unlisted packages are dropped");
        assert!(graph.iter().all(|d| d["ref"] != "pkg:golang/github.com/gorilla/mux@v1.8.1"), "unknown dependencies are not claimed empty");
    }

    #[test]
    fn the_serial_number_follows_the_content() {
        let a = cyclonedx_json(&packages(), &subject()).unwrap();
        let mut later = subject();
        later.version = "v1.2.1".into();
        let b = cyclonedx_json(&packages(), &later).unwrap();
        let serial = |bytes: &[u8]| serde_json::from_slice::<Value>(bytes).unwrap()["serialNumber"].clone();
        assert_ne!(serial(&a), serial(&b));
    }
}
