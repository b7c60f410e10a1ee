/// schema.graphql is the committed contract with clients; regenerate it
/// with `cargo run -- schema > schema.graphql` when the API changes.
#[test]
fn schema_graphql_matches_the_code() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema.graphql");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    let current = api::graphql::sdl();
    assert!(
        committed == current,
        "schema.graphql is out of date: run `cargo run -- schema > schema.graphql` and commit it"
    );
}
