//! Relay connections over keyset pages.
use async_graphql::{
    connection::{Connection, Edge},
    Context, OutputType, SimpleObject,
};

use crate::paging::{Page, PageArgs};

/// Extra connection fields.
#[derive(SimpleObject)]
pub struct Counted {
    /// How many items the whole list holds (counted only when asked for).
    pub total_count: u64,
}

/// A connection of `N` with a total count.
pub type Conn<N> = Connection<String, N, Counted>;

/// Relay arguments as one value.
pub fn page_args(
    after: Option<String>,
    before: Option<String>,
    first: Option<i32>,
    last: Option<i32>,
) -> PageArgs {
    PageArgs {
        after,
        before,
        first,
        last,
    }
}

/// Whether the client selected `totalCount`, so the count runs only then.
pub fn wants_total(ctx: &Context<'_>) -> bool {
    ctx.look_ahead().field("totalCount").exists()
}

/// Whether the client selected `field` on the connection's nodes, through
/// `nodes` or `edges { node }`: a list that can read it with its rows.
pub fn nodes_select(ctx: &Context<'_>, field: &str) -> bool {
    let ahead = ctx.look_ahead();
    ahead.field("nodes").field(field).exists()
        || ahead.field("edges").field("node").field(field).exists()
}

/// Maps a page of rows to a connection of GraphQL objects.
pub fn to_connection<M, N: OutputType>(page: Page<M>, wrap: impl Fn(M) -> N) -> Conn<N> {
    let mut c = Connection::with_additional_fields(
        page.has_previous,
        page.has_next,
        Counted {
            total_count: page.total.unwrap_or(0),
        },
    );
    c.edges.extend(
        page.items
            .into_iter()
            .map(|(cursor, m)| Edge::new(cursor.encode(), wrap(m))),
    );
    c
}
