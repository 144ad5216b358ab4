use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A profile attribute value: text, a number, yes/no, or a list of texts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum AttributeValue {
    Flag(bool),
    #[cfg_attr(feature = "openapi", schema(value_type = f64))]
    Number(serde_json::Number),
    Text(String),
    List(Vec<String>),
}

/// Free key/value profile attributes (department, interests, languages…), used for matching and automation conditions.
pub type Attributes = BTreeMap<String, AttributeValue>;

/// A person of the organisation: an admin, a mentor, a mentee, a provider, a student, or several of these.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "id": "0193b8a4-5f1e-7c2a-9d3e-6a7b8c9d0e1f", "email": "talia.k@example.org", "name": "Talia K",
    "bio": "Third-year chemistry student.", "photo_url": "https://cdn.example.org/people/talia-k.jpg",
    "time_zone": "America/Chicago",
    "attributes": {"department": "Chemistry", "languages": ["English", "Spanish"], "year": 3},
    "is_admin": false, "can_log_in": true, "created_at": "2026-11-23T09:00:00Z", "updated_at": "2026-11-23T09:00:00Z"
})))]
pub struct Person {
    pub id: Uuid,
    /// Unique within the organisation; stored trimmed and lower-cased.
    pub email: String,
    pub name: String,
    pub bio: String,
    /// An https address of the person's photo.
    #[serde(default)]
    pub photo_url: Option<String>,
    /// The person's own IANA time zone; `null` means the organisation's.
    pub time_zone: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, AttributeValue>))]
    pub attributes: Attributes,
    pub is_admin: bool,
    /// The person has a password. Without one, an invitation (`POST /people/{id}/invite`) lets
    /// them set it.
    #[serde(default)]
    pub can_log_in: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "email": "Talia.K@example.org ", "name": "Talia K", "bio": "Third-year chemistry student.",
    "time_zone": "America/Chicago", "attributes": {"department": "Chemistry", "languages": ["English", "Spanish"]}
})))]
#[serde(deny_unknown_fields)]
pub struct CreatePerson {
    pub email: String,
    pub name: String,
    #[serde(default)]
    pub bio: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = BTreeMap<String, AttributeValue>))]
    pub attributes: Attributes,
    #[serde(default)]
    pub is_admin: bool,
    /// Lets the person log in; at least 10 characters. Without it the person cannot log in yet.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Changes to a person; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({"bio": "Fourth-year chemistry student.", "attributes": {"year": 4}})))]
#[serde(deny_unknown_fields)]
pub struct UpdatePerson {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// An https address of at most 2000 characters; an empty string removes the photo.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub photo_url: Option<String>,
    /// An empty string clears the person's own zone (the organisation's applies).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_zone: Option<String>,
    /// Replaces all attributes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<BTreeMap<String, AttributeValue>>))]
    pub attributes: Option<Attributes>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_admin: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password: Option<String>,
}

/// Changes a person makes to their own profile; absent fields stay as they are.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[cfg_attr(feature = "openapi", schema(example = json!({
    "name": "Talia K", "bio": "Fourth-year chemistry student.",
    "photo_url": "https://cdn.example.org/people/talia-k.jpg", "time_zone": "America/Chicago",
    "attributes": {"languages": ["English", "Spanish"], "pronouns": null}
})))]
#[serde(deny_unknown_fields)]
pub struct UpdateMe {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bio: Option<String>,
    /// An https address of at most 2000 characters; `null` removes the photo.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable))]
    pub photo_url: Option<Option<String>>,
    /// An IANA time zone; `null` means the organisation's.
    #[serde(default, deserialize_with = "present", skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<String>, nullable))]
    pub time_zone: Option<Option<String>>,
    /// Changes to single attributes, the others kept; `null` removes one (see the schema).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(schema_with = attribute_changes_schema))]
    pub attributes: Option<BTreeMap<String, Option<AttributeValue>>>,
}

/// An object of attribute values, each one or `null`.
#[cfg(feature = "openapi")]
fn attribute_changes_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{AdditionalProperties, ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::{Ref, RefOr};
    let value_or_null = OneOfBuilder::new()
        .item(Ref::from_schema_name("AttributeValue"))
        .item(ObjectBuilder::new().schema_type(Type::Null))
        .build();
    ObjectBuilder::new()
        .schema_type(SchemaType::from_iter([Type::Object, Type::Null]))
        .additional_properties(Some(AdditionalProperties::RefOr(RefOr::T(Schema::OneOf(
            value_or_null,
        )))))
        .description(Some(
            "Changes to single attributes, the others kept: only attributes that a program the caller \
             takes part in lets participants edit (`participant_editable_attributes`). `null` removes one.",
        ))
        .build()
}

/// A field that is present, `null` included: absent stays `None` through `#[serde(default)]`,
/// `null` becomes `Some(None)`.
fn present<'de, T, D>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    T: Deserialize<'de>,
    D: serde::Deserializer<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// Filters of the people list.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::IntoParams))]
#[cfg_attr(feature = "openapi", into_params(parameter_in = Query))]
#[serde(deny_unknown_fields)]
pub struct PeopleQuery {
    /// Part of a name or email, case-insensitive.
    #[serde(default)]
    pub q: Option<String>,
    #[serde(default)]
    pub is_admin: Option<bool>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", param(minimum = 1, maximum = 200))]
    pub limit: Option<u32>,
    #[serde(default)]
    pub cursor: Option<String>,
}
