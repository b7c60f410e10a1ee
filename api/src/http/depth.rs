//! How deep a document's data selections go. Introspection (`__schema`,
//! `__type`) is left out: the standard introspection query of every GraphQL
//! tool is deeper than any data query should be, and the schema keeps its
//! own, larger limit as the backstop for it.
use async_graphql::parser::types::{ExecutableDocument, Selection, SelectionSet};

/// The deepest data field of any operation (fragments followed; a fragment
/// cycle, which validation refuses anyway, is cut off).
pub fn data_depth(doc: &ExecutableDocument) -> usize {
    doc.operations
        .iter()
        .map(|(_, op)| depth_of(doc, &op.node.selection_set.node, &mut Vec::new()))
        .max()
        .unwrap_or(0)
}

fn depth_of<'a>(
    doc: &'a ExecutableDocument,
    set: &'a SelectionSet,
    path: &mut Vec<&'a str>,
) -> usize {
    set.items
        .iter()
        .map(|item| match &item.node {
            Selection::Field(f) => {
                let name = f.node.name.node.as_str();
                if name == "__schema" || name == "__type" {
                    0
                } else {
                    1 + depth_of(doc, &f.node.selection_set.node, path)
                }
            }
            Selection::InlineFragment(i) => depth_of(doc, &i.node.selection_set.node, path),
            Selection::FragmentSpread(s) => {
                let name = s.node.fragment_name.node.as_str();
                match doc.fragments.get(name) {
                    Some(frag) if !path.contains(&name) => {
                        path.push(name);
                        let d = depth_of(doc, &frag.node.selection_set.node, path);
                        path.pop();
                        d
                    }
                    _ => 0,
                }
            }
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth(q: &str) -> usize {
        data_depth(&async_graphql::parser::parse_query(q).expect("parses"))
    }

    #[test]
    fn counts_data_and_skips_introspection() {
        assert_eq!(depth("{ a }"), 1);
        assert_eq!(depth("{ a { b { c } } }"), 3);
        assert_eq!(
            depth("query { a { ...F } } fragment F on A { b { c { d } } }"),
            4
        );
        assert_eq!(depth("{ a { ... on A { b } } }"), 2);
        assert_eq!(
            depth("{ __schema { types { fields { type { ofType { ofType { name } } } } } } }"),
            0
        );
        assert_eq!(
            depth("{ me { id } __type(name: \"X\") { fields { type { name } } } }"),
            2
        );
        // A cycle is cut rather than followed forever.
        assert_eq!(depth("{ a { ...F } } fragment F on A { b { ...F } }"), 2);
    }
}
