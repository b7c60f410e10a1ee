//! Enums with a database value, a GraphQL name and zh-CN / en labels, all
//! declared in one place so they can never drift apart.

/// One value of a labelled enum, as clients see it.
#[derive(async_graphql::SimpleObject, Clone, Debug)]
pub struct EnumLabel {
    /// The GraphQL value (also stored in the database).
    pub value: &'static str,
    /// English label.
    pub en: &'static str,
    /// Simplified Chinese label.
    #[graphql(name = "zhCN")]
    pub zh_cn: &'static str,
}

/// Declares a GraphQL enum whose values are stored as their SCREAMING_SNAKE
/// names, with English and Chinese labels.
macro_rules! labeled_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $db:literal ($en:literal, $zh:literal)),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(async_graphql::Enum, Copy, Clone, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* #[graphql(name = $db)] $variant,)+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as stored in the database and named in GraphQL.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $db,)+ }
            }

            /// Reads a stored value; unknown text gives `None`.
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($db => Some($name::$variant),)+ _ => None }
            }

            /// The Chinese label, for texts the server writes.
            pub fn label_zh(self) -> &'static str {
                match self { $($name::$variant => $zh,)+ }
            }

            /// The English label, for texts the server writes.
            #[allow(dead_code)]
            pub fn label_en(self) -> &'static str {
                match self { $($name::$variant => $en,)+ }
            }

            /// The labels of every value, for clients.
            pub fn labels() -> Vec<$crate::labels::EnumLabel> {
                vec![$($crate::labels::EnumLabel { value: $db, en: $en, zh_cn: $zh }),+]
            }
        }
    };
}
pub(crate) use labeled_enum;
