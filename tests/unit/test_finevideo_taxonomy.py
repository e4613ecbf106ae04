import json

import pytest

from assets.finevideo.taxonomy import (
    DEFAULT_DISCARD_ONLY,
    leaf_paths,
    load_tree,
    split_path,
    taxonomy_frame,
    taxonomy_version,
)
from assets.kit.provenance import contract_problems


def test_the_approved_file_has_126_leaves_with_123_unique_names_keyed_by_path():
    tree = load_tree()
    leaves = leaf_paths(tree)
    assert len(leaves) == 126
    assert len({p[-1] for p in leaves}) == 123
    assert len(tree) == 9
    assert sum(len(children) for children in tree.values()) == 47
    df = taxonomy_frame(tree, [])
    assert df.height == 126 and df["leaf_path"].n_unique() == 126
    shorts = sorted(df.filter(df["leaf"] == "Short Films")["leaf_path"].to_list())
    assert shorts == ["Art & Creativity > Photography & Film > Short Films",
                      "Entertainment > Movies & Trailers > Short Films"]


def test_a_leaf_is_a_record_keyed_by_its_path():
    df = taxonomy_frame(load_tree(), [])
    assert df["record_id"].n_unique() == df.height and contract_problems(df) == []
    car = df.filter(df["leaf_path"] == "Automotive > Car Reviews").row(0, named=True)
    assert car["record_id"] == "leaf:Automotive > Car Reviews" and car["parent_ids"] == [] and car["models"] == []


def test_two_level_leaves_have_no_mid_and_paths_split_back():
    df = taxonomy_frame(load_tree(), [])
    car = df.filter(df["leaf_path"] == "Automotive > Car Reviews").row(0, named=True)
    assert (car["top"], car["mid"], car["leaf"], car["depth"]) == ("Automotive", None, "Car Reviews", 2)
    assert split_path("Lifestyle > Food & Cooking > Recipe Videos") == ("Lifestyle", "Food & Cooking", "Recipe Videos")


def test_discard_only_adds_new_paths_and_flags_existing_leaves():
    df = taxonomy_frame(load_tree(), [*DEFAULT_DISCARD_ONLY, "Hobbies & Interests > Miscellaneous > Pranks"])
    assert df.height == 126 + len(DEFAULT_DISCARD_ONLY)
    flagged = set(df.filter("discard_only")["leaf_path"].to_list())
    assert flagged == {*DEFAULT_DISCARD_ONLY, "Hobbies & Interests > Miscellaneous > Pranks"}


def test_version_changes_with_the_file_and_with_the_discard_list():
    tree = load_tree()
    base = taxonomy_version(tree, DEFAULT_DISCARD_ONLY)
    assert taxonomy_version(json.loads(json.dumps(tree)), list(reversed(DEFAULT_DISCARD_ONLY))) == base
    edited = json.loads(json.dumps(tree))
    edited["Sports"]["Highlights & Replays"]["Bloopers"] = {}
    assert taxonomy_version(edited, DEFAULT_DISCARD_ONLY) != base
    assert taxonomy_version(tree, []) != base
    assert set(taxonomy_frame(edited)["taxonomy_version"]) == {taxonomy_version(edited, DEFAULT_DISCARD_ONLY)}


def test_malformed_taxonomy_is_refused():
    with pytest.raises(ValueError, match="not an object"):
        leaf_paths({"Sports": {"Highlights": "oops"}})
    with pytest.raises(ValueError, match="top-level parent"):
        taxonomy_frame({"Orphan": {}}, [])
