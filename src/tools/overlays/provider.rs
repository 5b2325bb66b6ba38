//! Providers with credentials that never pass through the model: overlays on
//! the generated `create_provider` and `patch_provider`.
//!
//! `create_provider` also takes `type`, `url`, `username`, `password`,
//! `token`, `cacert`, … (values may be `${VAR}`: see [`super::env`]): it
//! creates the credentials Secret with the keys Forklift expects for that
//! provider type, the Provider pointing at it, then makes the Provider the
//! Secret's owner (deleting the Provider deletes the Secret). A Provider
//! that cannot be created takes its new Secret with it. `MTV_VDDK_INIT_IMAGE`
//! in the server's environment is the default `vddkInitImage` of vSphere
//! providers. `patch_provider` takes the same credential arguments and
//! updates the Secret (a password rotation). Secret values are shown as
//! `****` in every result.

use std::collections::BTreeMap;

use futures::future::BoxFuture;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ObjectMeta, Patch, PatchParams, PostParams};
use kube::ResourceExt;
use serde_json::{json, Map, Value};

use crate::cluster::errors::Attempt;
use crate::cluster::{Connection, KubeFailure};
use crate::tools::crud::ops::FIELD_MANAGER;
use crate::tools::forklift::{kube_failure, Provider};
use crate::tools::suggest::distance;
use crate::tools::{CallContext, Overlay, Tool, ToolError, ToolOutput, ToolResult};

/// Forklift's provider types (`pkg/apis/forklift/v1beta1/provider.go`).
pub const PROVIDER_TYPES: [&str; 8] = [
    "openshift",
    "vsphere",
    "ovirt",
    "openstack",
    "ova",
    "ec2",
    "hyperv",
    "nutanix",
];

/// The environment variable with the default VDDK init image.
pub const VDDK_ENV: &str = "MTV_VDDK_INIT_IMAGE";

/// Credential arguments, in the order shown, with their descriptions.
const CREDENTIALS: [(&str, &str, &str); 11] = [
    ("url", "string", "Provider URL (e.g. https://vcenter.example.com/sdk)."),
    ("username", "string", "User name (vsphere, ovirt, openstack, hyperv, nutanix; ec2: access key id)."),
    ("password", "string", "Password (ec2: secret access key). Pass \"${VAR}\" to read it from the server's environment."),
    ("token", "string", "Token (openshift, openstack); \"${VAR}\" reads the server's environment."),
    ("cacert", "string", "CA certificate (PEM) of the provider."),
    ("insecure_skip_verify", "boolean", "Do not verify the provider's TLS certificate."),
    ("vddk_init_image", "string", "vSphere: VDDK init image (default: $MTV_VDDK_INIT_IMAGE)."),
    ("sdk_endpoint", "string", "vSphere: vcenter or esxi."),
    ("domain_name", "string", "OpenStack domain."),
    ("project_name", "string", "OpenStack project."),
    ("region_name", "string", "OpenStack (or ec2) region."),
];

/// A secret argument written `$NAME`: most likely meant `${NAME}`.
fn unbraced_variable(creds: &Map<String, Value>) -> Result<(), ToolError> {
    for k in ["password", "token"] {
        if let Some(v) = creds.get(k).and_then(Value::as_str) {
            let name = v.strip_prefix('$').unwrap_or_default();
            let looks = !name.is_empty()
                && name
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if looks {
                return Err(ToolError::invalid(format!(
                    "{k} is \"${name}\": to read the server's environment variable write \"${{{name}}}\" (with braces). Nothing was sent to the cluster."
                )));
            }
        }
    }
    Ok(())
}

/// Keys whose values are secret.
const SECRET_KEYS: [&str; 5] = [
    "password",
    "token",
    "secretAccessKey",
    "smbPassword",
    "targetSecretAccessKey",
];

fn str_arg<'a>(args: &'a Value, k: &str) -> Option<&'a str> {
    args.get(k)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

fn has_credentials(args: &Value) -> bool {
    CREDENTIALS.iter().any(|(k, _, _)| args.get(*k).is_some())
}

fn take_credentials(args: &mut Value) -> Map<String, Value> {
    let mut out = Map::new();
    if let Some(obj) = args.as_object_mut() {
        for (k, _, _) in CREDENTIALS {
            if let Some(v) = obj.remove(k) {
                out.insert(k.to_owned(), v);
            }
        }
    }
    out
}

/// Secret data as shown in results: secret values masked.
pub fn masked(data: &BTreeMap<String, String>) -> Value {
    Value::Object(
        data.iter()
            .map(|(k, v)| {
                let shown = if SECRET_KEYS.contains(&k.as_str()) {
                    "****".to_owned()
                } else if k == "cacert" {
                    format!("<PEM, {} bytes>", v.len())
                } else {
                    v.clone()
                };
                (k.clone(), json!(shown))
            })
            .collect(),
    )
}

/// Checks a provider type, suggesting the closest one for a typo.
pub fn check_type(t: &str) -> Result<(), ToolError> {
    if PROVIDER_TYPES.contains(&t) {
        return Ok(());
    }
    let close = PROVIDER_TYPES
        .iter()
        .min_by_key(|c| distance(c, t))
        .filter(|c| distance(c, t) <= 3)
        .map(|c| format!(" Did you mean {c}?"))
        .unwrap_or_default();
    Err(ToolError::invalid(format!(
        "\"{t}\" is not a Forklift provider type; it is one of {}.{close} Nothing was sent to the cluster.",
        PROVIDER_TYPES.join(", ")
    )))
}

/// The Secret data Forklift expects for a provider type (the keys of
/// upstream kubectl-mtv and of Forklift's provider validation).
pub fn secret_data(
    kind: &str,
    c: &Map<String, Value>,
) -> Result<BTreeMap<String, String>, ToolError> {
    let get = |k: &str| {
        c.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    };
    let insecure = c.get("insecure_skip_verify").and_then(Value::as_bool) == Some(true);
    let mut d = BTreeMap::new();
    let need = |key: &str, arg: &str, d: &mut BTreeMap<String, String>| -> Result<(), ToolError> {
        match get(arg) {
            Some(v) => {
                d.insert(key.to_owned(), v);
                Ok(())
            }
            None => Err(ToolError::invalid(format!(
                "A {kind} provider needs `{arg}`. Nothing was sent to the cluster."
            ))),
        }
    };
    match kind {
        "vsphere" | "ovirt" | "nutanix" => {
            need("user", "username", &mut d)?;
            need("password", "password", &mut d)?;
            if !insecure && get("cacert").is_none() {
                return Err(ToolError::invalid(format!(
                    "A {kind} provider needs `cacert` (the PEM CA certificate of its endpoint) or `insecure_skip_verify: true`; Forklift rejects it otherwise. Nothing was sent to the cluster."
                )));
            }
        }
        "openshift" => {
            need("token", "token", &mut d)?;
        }
        "openstack" => {
            if get("token").is_some() {
                need("token", "token", &mut d)?;
            } else {
                need("username", "username", &mut d)?;
                need("password", "password", &mut d)?;
            }
            for (key, arg) in [
                ("domainName", "domain_name"),
                ("projectName", "project_name"),
                ("regionName", "region_name"),
            ] {
                if let Some(v) = get(arg) {
                    d.insert(key.to_owned(), v);
                }
            }
        }
        "hyperv" => {
            need("username", "username", &mut d)?;
            need("password", "password", &mut d)?;
        }
        "ec2" => {
            need("accessKeyId", "username", &mut d)?;
            need("secretAccessKey", "password", &mut d)?;
            need("region", "region_name", &mut d)?;
        }
        _ => {}
    }
    if let Some(u) = get("url") {
        d.insert("url".into(), u);
    }
    if let Some(ca) = get("cacert") {
        d.insert("cacert".into(), ca);
    }
    if insecure {
        d.insert("insecureSkipVerify".into(), "true".into());
    }
    Ok(d)
}

fn secret_failure(
    e: &kube::Error,
    verb: &str,
    name: Option<&str>,
    ns: &str,
    conn: &Connection,
) -> ToolError {
    ToolError::Kube(KubeFailure::from_kube(
        e,
        &Attempt {
            verb,
            resource: "secrets",
            kind: "Secret",
            name,
            namespace: Some(ns),
            server: &conn.server,
            list_tool: "get_providers",
        },
    ))
}

/// The `create_provider` overlay.
pub struct ProviderCreate;

impl Overlay for ProviderCreate {
    fn target(&self) -> &str {
        "create_provider"
    }

    fn definition(&self, base: &Value) -> Value {
        let mut properties = vec![(
            "type".to_string(),
            json!({"type": "string", "enum": PROVIDER_TYPES, "description": "Provider type (instead of spec: with the credentials below)."}),
        )];
        properties.extend(
            CREDENTIALS
                .iter()
                .map(|(k, t, desc)| (k.to_string(), json!({"type": t, "description": desc}))),
        );
        super::with_alternative_form(
            base,
            "spec",
            properties,
            "Or give type, url and credentials instead of spec: the credentials Secret is created with Forklift's keys and owned by the Provider.",
        )
    }

    fn call<'a>(
        &'a self,
        ctx: &'a CallContext,
        mut args: Value,
        base: &'a dyn Tool,
    ) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            let kind = args.as_object_mut().and_then(|o| o.remove("type"));
            let creds = take_credentials(&mut args);
            if kind.is_none() && creds.is_empty() {
                // The spec form; its type is still checked, and vSphere gets
                // the server's default VDDK image.
                if let Some(t) = args.pointer("/spec/type").and_then(Value::as_str) {
                    check_type(t)?;
                    if t == "vsphere" {
                        default_vddk(&mut args);
                    }
                }
                return base.call(ctx, args).await;
            }
            if args.get("spec").is_some() {
                return Err(ToolError::invalid(
                    "Give either spec, or type with url and credentials, not both. Nothing was sent to the cluster.",
                ));
            }
            let kind = kind
                .as_ref()
                .and_then(Value::as_str)
                .ok_or_else(|| {
                    ToolError::invalid(format!(
                        "`type` is needed with credentials: one of {}.",
                        PROVIDER_TYPES.join(", ")
                    ))
                })?
                .to_owned();
            check_type(&kind)?;
            unbraced_variable(&creds)?;
            guided_create(ctx, args, &kind, &creds, base).await
        })
    }
}

fn default_vddk(args: &mut Value) {
    if let Ok(image) = std::env::var(VDDK_ENV) {
        if !image.is_empty() && args.pointer("/spec/settings/vddkInitImage").is_none() {
            if args["spec"].get("settings").is_none() {
                args["spec"]["settings"] = json!({});
            }
            args["spec"]["settings"]["vddkInitImage"] = json!(image);
        }
    }
}

async fn guided_create(
    ctx: &CallContext,
    mut args: Value,
    kind: &str,
    creds: &Map<String, Value>,
    base: &dyn Tool,
) -> ToolResult {
    let name = args["name"].as_str().unwrap_or_default().to_owned();
    if name.is_empty() {
        return Err(ToolError::invalid("`name` is needed."));
    }
    let url = str_arg(&Value::Object(creds.clone()), "url").map(str::to_owned);
    // An OpenShift provider without URL is the local "host" cluster: no Secret.
    let host = kind == "openshift" && url.is_none();
    if url.is_none() && !host {
        return Err(ToolError::invalid(format!(
            "A {kind} provider needs `url`. Nothing was sent to the cluster."
        )));
    }
    let data = if host {
        BTreeMap::new()
    } else {
        secret_data(kind, creds)?
    };
    let dry_run = args["dry_run"] == true;
    let conn = ctx.connect().await?;
    let ns = conn.namespace_or_default(args["namespace"].as_str());
    let mut spec = json!({"type": kind});
    if let Some(u) = &url {
        spec["url"] = json!(u);
    }
    let mut settings = Map::new();
    if kind == "vsphere" {
        let image = str_arg(&Value::Object(creds.clone()), "vddk_init_image")
            .map(str::to_owned)
            .or_else(|| std::env::var(VDDK_ENV).ok().filter(|s| !s.is_empty()));
        if let Some(i) = image {
            settings.insert("vddkInitImage".into(), json!(i));
        }
        if let Some(e) = str_arg(&Value::Object(creds.clone()), "sdk_endpoint") {
            settings.insert("sdkEndpoint".into(), json!(e));
        }
    }
    if !settings.is_empty() {
        spec["settings"] = Value::Object(settings);
    }
    let secrets: Api<Secret> = Api::namespaced(conn.client.clone(), &ns);
    let mut secret_name = None;
    if host {
        spec["secret"] = json!({});
    } else {
        let secret = Secret {
            metadata: ObjectMeta {
                generate_name: Some(format!("{name}-{kind}-")),
                namespace: Some(ns.clone()),
                labels: Some(BTreeMap::from([
                    ("createdForProviderType".to_owned(), kind.to_owned()),
                    ("createdForResourceType".to_owned(), "providers".to_owned()),
                ])),
                ..Default::default()
            },
            string_data: Some(data.clone()),
            type_: Some("Opaque".into()),
            ..Default::default()
        };
        let pp = PostParams {
            dry_run,
            field_manager: Some(FIELD_MANAGER.into()),
        };
        let created = secrets
            .create(&pp, &secret)
            .await
            .map_err(|e| secret_failure(&e, "create", None, &ns, &conn))?;
        let sname = created.name_any();
        spec["secret"] = json!({"name": sname, "namespace": ns});
        secret_name = Some(sname);
    }
    args["spec"] = spec;
    let out = base.call(ctx, args).await;
    let out = match out {
        Ok(o) if !o.is_error => o,
        failed => {
            // Nothing half-made: the new Secret goes with the failed Provider.
            if let (Some(s), false) = (&secret_name, dry_run) {
                let _ = secrets.delete(s, &DeleteParams::default()).await;
            }
            return failed;
        }
    };
    let mut text = out.text.clone();
    let mut structured = out.structured.clone().unwrap_or_default();
    if let Some(s) = &secret_name {
        if !dry_run {
            let uid = structured
                .pointer("/metadata/uid")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let owner = OwnerReference {
                api_version: "forklift.konveyor.io/v1beta1".into(),
                kind: "Provider".into(),
                name: name.clone(),
                uid,
                ..Default::default()
            };
            secrets
                .patch(
                    s,
                    &PatchParams::default(),
                    &Patch::Merge(json!({"metadata": {"ownerReferences": [owner]}})),
                )
                .await
                .map_err(|e| secret_failure(&e, "patch", Some(s), &ns, &conn))?;
        }
        text.push_str(&format!(
            "\nCredentials Secret {ns}/{s}{} with keys {}; owned by the Provider, so deleting the Provider deletes it.",
            if dry_run { " (dry run: not saved)" } else { "" },
            masked(&data)
        ));
        structured["credentialsSecret"] =
            json!({"name": s, "namespace": ns, "data": masked(&data)});
    }
    Ok(ToolOutput::ok(text, Some(structured)))
}

/// The `patch_provider` overlay: credential arguments update the Secret.
pub struct ProviderPatch;

impl Overlay for ProviderPatch {
    fn target(&self) -> &str {
        "patch_provider"
    }

    fn definition(&self, base: &Value) -> Value {
        super::with_alternative_form(
            base,
            "patch",
            CREDENTIALS
                .iter()
                .take(6)
                .map(|(k, t, desc)| (k.to_string(), json!({"type": t, "description": desc}))),
            "Credential arguments (password, token, …) update the provider's Secret instead.",
        )
    }

    fn call<'a>(
        &'a self,
        ctx: &'a CallContext,
        mut args: Value,
        base: &'a dyn Tool,
    ) -> BoxFuture<'a, ToolResult> {
        Box::pin(async move {
            if !has_credentials(&args) {
                if args.get("patch").is_none() {
                    return Err(ToolError::Arguments {
                        tool: "patch_provider".into(),
                        detail: "give `patch`, or credentials to update (password, token, …)"
                            .into(),
                    });
                }
                return base.call(ctx, args).await;
            }
            let creds = take_credentials(&mut args);
            unbraced_variable(&creds)?;
            let name = args["name"].as_str().unwrap_or_default().to_owned();
            let dry_run = args["dry_run"] == true;
            let conn = ctx.connect().await?;
            let ns = conn.namespace_or_default(args["namespace"].as_str());
            let providers: Api<Provider> = Api::namespaced(conn.client.clone(), &ns);
            let provider = providers
                .get(&name)
                .await
                .map_err(|e| kube_failure(&e, "get", "Provider", Some(&name), &ns, &conn))?;
            let Some(sname) = provider.spec.secret.name.clone().filter(|n| !n.is_empty()) else {
                return Err(ToolError::refused(format!(
                    "Provider {ns}/{name} has no credentials Secret (spec.secret is empty): it is the local host cluster, or was created without one."
                )));
            };
            let sns = provider
                .spec
                .secret
                .namespace
                .clone()
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| ns.clone());
            let mut data = BTreeMap::new();
            let get = |k: &str| {
                creds
                    .get(k)
                    .and_then(Value::as_str)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
            };
            let user_key = if matches!(provider.spec.r#type.as_str(), "openstack" | "hyperv") {
                "username"
            } else {
                "user"
            };
            for (key, arg) in [
                (user_key, "username"),
                ("password", "password"),
                ("token", "token"),
                ("url", "url"),
                ("cacert", "cacert"),
            ] {
                if let Some(v) = get(arg) {
                    data.insert(key.to_owned(), v);
                }
            }
            if let Some(b) = creds.get("insecure_skip_verify").and_then(Value::as_bool) {
                data.insert("insecureSkipVerify".into(), b.to_string());
            }
            let secrets: Api<Secret> = Api::namespaced(conn.client.clone(), &sns);
            let pp = PatchParams {
                dry_run,
                field_manager: Some(FIELD_MANAGER.into()),
                ..Default::default()
            };
            secrets
                .patch(&sname, &pp, &Patch::Merge(json!({"stringData": data})))
                .await
                .map_err(|e| secret_failure(&e, "patch", Some(&sname), &sns, &conn))?;
            let mut text = format!(
                "Updated the credentials Secret {sns}/{sname} of Provider {ns}/{name}{}: {}. Forklift tests the connection again.",
                if dry_run { " (dry run: not saved)" } else { "" },
                masked(&data)
            );
            let mut structured = json!({"secret": {"name": sname, "namespace": sns, "data": masked(&data)}, "dryRun": dry_run});
            if let Some(u) = get("url") {
                let mut spec_patch = json!({"spec": {"url": u}});
                if let Some(p) = args.get("patch").and_then(Value::as_object) {
                    for (k, v) in p {
                        if k == "spec" {
                            if let (Some(a), Some(b)) =
                                (spec_patch["spec"].as_object_mut(), v.as_object())
                            {
                                for (kk, vv) in b {
                                    a.entry(kk.clone()).or_insert(vv.clone());
                                }
                            }
                        } else {
                            spec_patch[k] = v.clone();
                        }
                    }
                }
                args["patch"] = spec_patch;
            }
            if args.get("patch").is_some() {
                let out = base.call(ctx, args).await?;
                if out.is_error {
                    return Ok(out);
                }
                text.push('\n');
                text.push_str(&out.text);
                structured["provider"] = out.structured.unwrap_or_default();
            }
            Ok(ToolOutput::ok(text, Some(structured)))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_are_checked_with_a_suggestion() {
        assert!(check_type("vsphere").is_ok());
        let e = check_type("openshfit").unwrap_err().to_string();
        assert!(
            e.contains("Did you mean openshift?") && e.contains("ovirt"),
            "{e}"
        );
        assert!(!check_type("azure-stack-hub")
            .unwrap_err()
            .to_string()
            .contains("Did you mean"));
    }

    #[test]
    fn secret_keys_follow_forklift() {
        let c = |v: Value| v.as_object().unwrap().clone();
        let d = secret_data("vsphere", &c(json!({"url": "https://vc/sdk", "username": "u", "password": "p", "insecure_skip_verify": true}))).unwrap();
        assert_eq!(
            d,
            BTreeMap::from([
                ("insecureSkipVerify".into(), "true".into()),
                ("password".into(), "p".into()),
                ("url".into(), "https://vc/sdk".into()),
                ("user".into(), "u".into())
            ])
        );
        let e = secret_data(
            "vsphere",
            &c(json!({"url": "u", "username": "u", "password": "p"})),
        )
        .unwrap_err();
        assert!(e.to_string().contains("cacert"));
        let e = secret_data("vsphere", &c(json!({"url": "u", "username": "u"}))).unwrap_err();
        assert!(e.to_string().contains("`password`"));
        let d = secret_data("openstack", &c(json!({"url": "u", "username": "u", "password": "p", "domain_name": "Default", "project_name": "admin", "region_name": "RegionOne"}))).unwrap();
        assert_eq!(d["domainName"], "Default");
        assert_eq!(d["username"], "u");
        let m = masked(&d);
        assert_eq!(m["password"], "****");
        assert_eq!(m["username"], "u");
    }
}
