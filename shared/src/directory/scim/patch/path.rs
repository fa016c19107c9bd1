//! A PATCH `path` (`attr[filter].sub`, schema-qualified or not) split and resolved against the
//! resource type's schema into a [`Target`]. Applying an operation to the target is `attributes`.

use crate::directory::scim::error::{Invalid, ScimError};
use crate::directory::scim::filter::{AttrPath, Filter};
use crate::directory::scim::schema::{self, Attr, ResourceType};

pub(super) fn bad_path(path: &str, why: &str) -> ScimError {
    ScimError::invalid(Invalid::Path, format!("path `{path}`: {why}"))
}

/// What a path names, resolved against the schema.
pub(super) struct Target {
    pub(super) urn: Option<&'static str>,
    pub(super) attr: &'static Attr,
    pub(super) sub: Option<&'static Attr>,
    pub(super) filter: Option<Filter>,
}

/// Splits `attr[filter].sub` and resolves the names.
pub(super) fn resolve(rt: &ResourceType, raw: &str) -> Result<Target, ScimError> {
    let (head, filter, after) = match raw.find('[') {
        None => (raw, None, None),
        Some(open) => {
            let close = closing_bracket(raw, open).ok_or_else(|| bad_path(raw, "`[` is not closed"))?;
            let inner = &raw[open + 1..close];
            let filter = Filter::parse(inner).map_err(|e| ScimError::invalid(e.rule(), format!("path `{raw}`: {e}")))?;
            let rest = &raw[close + 1..];
            let after = match rest.strip_prefix('.') {
                Some(sub) if !sub.is_empty() => Some(sub),
                None if rest.is_empty() => None,
                _ => return Err(bad_path(raw, "only `.subAttribute` may follow `]`")),
            };
            (&raw[..open], Some(filter), after)
        }
    };
    let path = AttrPath::parse(head).ok_or_else(|| bad_path(raw, "not an attribute path"))?;
    let (urn, attrs): (Option<&'static str>, &'static [Attr]) = match &path.uri {
        None => (None, rt.attrs),
        Some(u) if rt.is_core(u) => (None, rt.attrs),
        Some(u) => match rt.extension(u) {
            Some((urn, attrs)) => (Some(urn), attrs),
            None => return Err(bad_path(raw, "unknown schema")),
        },
    };
    let attr = schema::find(attrs, &path.name).ok_or_else(|| bad_path(raw, "no such attribute"))?;
    let sub_name = match (path.sub.as_deref(), after) {
        (Some(_), Some(_)) => return Err(bad_path(raw, "two sub-attributes")),
        (s, a) => s.or(a),
    };
    if filter.is_some() && path.sub.is_some() {
        return Err(bad_path(raw, "the filter belongs right after the attribute"));
    }
    if filter.is_some() && !attr.multi {
        return Err(bad_path(raw, "a filter selects values of a multi-valued attribute"));
    }
    let sub = match sub_name {
        None => None,
        Some(name) => Some(schema::find(attr.sub, name).ok_or_else(|| bad_path(raw, "no such sub-attribute"))?),
    };
    Ok(Target { urn, attr, sub, filter })
}

/// Byte index of the `]` that closes the `[` at `open`, skipping quoted strings.
fn closing_bracket(raw: &str, open: usize) -> Option<usize> {
    let (mut quoted, mut escaped) = (false, false);
    for (i, c) in raw[open + 1..].char_indices() {
        match (quoted, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (true, false, '"') => quoted = false,
            (false, _, '"') => quoted = true,
            (false, _, ']') => return Some(open + 1 + i),
            _ => {}
        }
    }
    None
}
