//! `string_enum!`: closed sets of codes whose wire form (serde) and `Display` must never drift apart.

/// Declares a fieldless enum whose serde name, `as_str`, `Display` and `FromStr` all use the one string
/// given per variant, so a status shown in an error message is exactly what the JSON says.
macro_rules! string_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident ($field:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
            serde::Serialize, serde::Deserialize, schemars::JsonSchema,
        )]
        pub enum $name {
            $( $(#[$vmeta])* #[serde(rename = $text)] $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[ $( $name::$variant, )+ ];

            /// The wire name (snake_case), as serde writes it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl std::str::FromStr for $name {
            type Err = $crate::error::DomainError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::error::DomainError::invalid($field, format!("unknown value {s:?}")))
            }
        }
    };
}

/// `id()` and [`Dated::on`](crate::aggregate::Dated) for a command enum whose every variant has the
/// fields `id` and `on`: `command_fields!(NeedCommand: Identify, AgreeWithState, ...)`. An
/// aggregate keyed by a code (`id: String`) says `by code` and its `id()` is a `&str`.
macro_rules! command_fields {
    (@dated $command:ident: $($variant:ident),+) => {
        impl $crate::aggregate::Dated for $command {
            fn on(&self) -> jiff::civil::Date {
                match self {
                    $( Self::$variant { on, .. } )|+ => *on,
                }
            }
        }
    };
    ($command:ident: $($variant:ident),+ $(,)?) => {
        impl $command {
            /// The id of the aggregate the command is for.
            pub fn id(&self) -> uuid::Uuid {
                match self {
                    $( Self::$variant { id, .. } )|+ => *id,
                }
            }
        }
        command_fields!(@dated $command: $($variant),+);
    };
    ($command:ident by code: $($variant:ident),+ $(,)?) => {
        impl $command {
            /// The code of the aggregate the command is for.
            pub fn id(&self) -> &str {
                match self {
                    $( Self::$variant { id, .. } )|+ => id,
                }
            }
        }
        command_fields!(@dated $command: $($variant),+);
    };
}

/// Declares an event enum in the wire form every event has (see
/// [`DomainEvent`](crate::event::DomainEvent)): adjacently tagged by serde as `kind` and `payload`,
/// the kind in snake_case, as strum writes it for `kind()` and `KINDS` ([`event_fields!`]).
macro_rules! event_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $($variants:tt)* }) => {
        $(#[$meta])*
        #[allow(
            clippy::enum_variant_names,
            reason = "kind strings are global across services, so each names its aggregate"
        )]
        #[derive(
            Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize,
            strum::IntoStaticStr, strum::VariantNames,
        )]
        #[serde(tag = "kind", content = "payload", rename_all = "snake_case")]
        #[strum(serialize_all = "snake_case")]
        pub enum $name { $($variants)* }
    };
}

/// `KINDS` and [`DomainEvent`](crate::event::DomainEvent) for an event enum (adjacently tagged by
/// serde, with strum's `IntoStaticStr` and `VariantNames`) whose listed variants carry their business
/// date in `on`; a variant dated by another field follows the list as a match arm:
/// `event_fields!(TokenEvent: TokenRevoked; Self::TokenIssued { issued_on, .. } => *issued_on)`.
macro_rules! event_fields {
    (@impl $event:ident { $($arms:tt)* }) => {
        impl $event {
            /// Every kind of this enum, as serde writes it.
            pub const KINDS: &'static [&'static str] = <Self as strum::VariantNames>::VARIANTS;
        }

        impl $crate::event::DomainEvent for $event {
            fn kind(&self) -> &'static str {
                self.into()
            }

            fn on(&self) -> jiff::civil::Date {
                match self {
                    $($arms)*
                }
            }
        }
    };
    ($event:ident: ; $($pat:pat => $date:expr),+ $(,)?) => {
        event_fields!(@impl $event { $($pat => $date,)+ });
    };
    ($event:ident: $($variant:ident),+ $(; $($pat:pat => $date:expr),+)? $(,)?) => {
        event_fields!(@impl $event { $($($pat => $date,)+)? $( Self::$variant { on, .. } )|+ => *on, });
    };
}

/// A test's edit of one command variant's fields, as a `fn(&mut Command)`:
/// `edit!(NeedCommand::Identify, priority = 4)`. It panics on another variant.
#[cfg(test)]
macro_rules! edit {
    ($command:ident :: $variant:ident, $($field:ident = $value:expr),+ $(,)?) => {
        |c: &mut $command| {
            #[allow(irrefutable_let_patterns, reason = "some commands have one variant")]
            let $command::$variant { $($field,)+ .. } = c else {
                panic!("not a {}: {c:?}", stringify!($variant));
            };
            $( *$field = $value; )+
        }
    };
}
