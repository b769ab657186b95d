//! `calls!`: the one declaration of every call. From each entry it derives the call's
//! parameter struct, its variant of the tagged [`Request`](crate::Request), its line in
//! [`CALLS`](crate::CALLS) (what the code generators read) and its arm of the dispatcher,
//! so the four can never disagree.

/// Declares the call table. Each entry:
///
/// ```text
/// /// Docs (become the generated wrappers' docs).
/// Name: "group" . "method" (param: Type, #[serde(default)] optional: Type) -> Result,
///     needs: Client | Offline | Anonymous,
///     |ctx, p| expression of type sesame_core::Result<Result>;
/// ```
macro_rules! calls {
    ($(
        $(#[doc = $doc:literal])*
        $name:ident: $group:literal . $method:literal (
            $($(#[$pattr:meta])* $param:ident: $ptype:ty),* $(,)?
        ) -> $result:ty,
        needs: $needs:ident,
        |$ctx:ident, $p:ident| $body:expr;
    )*) => {
        /// The parameters of each call: the JSON object under `"parameters"`.
        pub mod params {
            #[allow(unused_imports)]
            use super::*;
            $(
                $(#[doc = $doc])*
                #[derive(Debug, serde::Deserialize)]
                #[serde(deny_unknown_fields)]
                #[allow(missing_docs)]
                pub struct $name {
                    $($(#[$pattr])* pub $param: $ptype,)*
                }
            )*
        }

        /// A call as the bindings send it: `{"name": "SecretsResolve", "parameters": {…}}`.
        #[derive(Debug, serde::Deserialize)]
        #[serde(tag = "name", content = "parameters")]
        #[allow(missing_docs)]
        pub enum Request {
            $($name(params::$name),)*
        }

        impl Request {
            /// The call's name, for messages (never its parameters: they may be secret).
            pub fn name(&self) -> &'static str {
                match self {
                    $(Self::$name(_) => stringify!($name),)*
                }
            }
        }

        /// Every call, in declaration order.
        pub const CALLS: &[Call] = &[
            $(Call {
                name: stringify!($name),
                group: $group,
                method: $method,
                doc: concat!($($doc, "\n",)*),
                params: &[$(Param {
                    name: stringify!($param),
                    ty: stringify!($ptype),
                    attributes: concat!($(stringify!($pattr),)*),
                },)*],
                result: stringify!($result),
                needs: Needs::$needs,
            },)*
        ];

        /// Runs `request`: the one place each call meets the core.
        pub(crate) async fn dispatch(request: Request, context: &mut Context<'_>) -> sesame_core::Result<Reply> {
            match request {
                $(Request::$name($p) => {
                    let $ctx = &mut *context;
                    let value: $result = $body?;
                    value.into_reply()
                })*
            }
        }
    };
}
