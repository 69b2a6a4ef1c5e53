"""The restructuring base operators: replace / replace all, split array / object / value, pivot, nest and
unnest, run through to_pact and the inline executor against plain-Python expectations."""

from __future__ import annotations

import pytest

from sopremo.errors import OperatorError
from sopremo.expressions.nodes import (Arithmetic, ArrayIndex, ArrayProjection, ElementRef, FunctionCall,
                                       ObjectConstruction, Var)
from sopremo.function import SopremoFunction
from sopremo.operator import PropertyError
from sopremo_base import (ArraySplit, Nest, ObjectSplit, Pivot, Replace, ReplaceAll, Unnest, ValueSplit)
from test_base_helpers import arr, c, canon, fld, inp, obj, run, src

COUNT = SopremoFunction("count", lambda xs: len(xs), 1, 1)
PERSONS = [{"name": "ann", "lang": "de", "home": {"country": "DE"}}, {"name": "bob", "lang": "fr"},
           {"name": "cid", "lang": "xx", "home": {"country": "US"}}, {"name": "dan"}]
LANGUAGES = [["de", "German"], ["fr", "French"], ["de", "Deutsch"], ["en", "English"]]


def at(base, i):
    return ArrayIndex(base, c(i))


def test_replace_keeps_unknown_values_without_default():
    op = Replace(inputs=[src(*PERSONS), src(*LANGUAGES)], path=fld(inp(), "lang"), dictionary=1)
    expected = [{**PERSONS[0], "lang": "German"}, {**PERSONS[1], "lang": "French"}, PERSONS[2], PERSONS[3]]
    assert canon(run(op)) == canon(expected)


def test_replace_default_is_computed_from_the_record():
    default = Arithmetic("+", c("unknown "), fld(inp(), "name"))
    op = Replace(inputs=[src(*PERSONS[:3]), src(*LANGUAGES)], path=fld(inp(), "lang"), dictionary=1,
                 default=default)
    expected = [{**PERSONS[0], "lang": "German"}, {**PERSONS[1], "lang": "French"},
                {**PERSONS[2], "lang": "unknown cid"}]
    assert canon(run(op)) == canon(expected)


def test_replace_nested_path_copies_the_record():
    countries = [["DE", "Germany"], ["US", "USA"]]
    op = Replace(inputs=[src(*PERSONS[:3]), src(*countries)], path=fld(inp(), "home", "country"), dictionary=1)
    expected = [{**PERSONS[0], "home": {"country": "Germany"}}, PERSONS[1], {**PERSONS[2], "home": {"country": "USA"}}]
    assert canon(run(op)) == canon(expected)
    assert PERSONS[0]["home"] == {"country": "DE"}


def test_replace_rejects_bad_dictionary_records_and_non_paths():
    with pytest.raises(OperatorError, match="dictionary record"):
        run(Replace(inputs=[src(*PERSONS), src({"de": "German"})], path=fld(inp(), "lang"), dictionary=1))
    with pytest.raises(PropertyError):
        Replace(inputs=[src(), src()], path=arr(inp()), dictionary=1).validate()


def test_replace_all_replaces_elements_and_keeps_duplicates():
    docs = [{"id": 1, "langs": ["de", "xx", "fr"]}, {"id": 2, "langs": []}, {"id": 3},
            {"id": 1, "langs": ["de", "xx", "fr"]}, {"id": 4, "langs": ["en"]}]
    op = ReplaceAll(inputs=[src(*docs), src(*LANGUAGES)], path=fld(inp(), "langs"), dictionary=1)
    expected = [{"id": 1, "langs": ["German", "xx", "French"]}, {"id": 2, "langs": []}, {"id": 3},
                {"id": 1, "langs": ["German", "xx", "French"]}, {"id": 4, "langs": ["English"]}]
    assert canon(run(op)) == canon(expected)


def test_replace_all_with_default_and_non_array_error():
    docs = [{"langs": ["fr", "??"]}]
    op = ReplaceAll(inputs=[src(*docs), src(*LANGUAGES)], path=fld(inp(), "langs"), dictionary=1, default=c(None))
    assert run(op) == [{"langs": ["French", None]}]
    with pytest.raises(OperatorError, match="not an array"):
        run(ReplaceAll(inputs=[src({"langs": "de"}), src(*LANGUAGES)], path=fld(inp(), "langs"), dictionary=1))


def test_split_array_default_emits_elements():
    op = ArraySplit(inputs=[src({"xs": [1, 2]}, {"xs": []}, {"xs": [3]})], path=fld(inp(), "xs"))
    assert run(op) == [1, 2, 3]


def test_split_array_into_sees_element_index_array_record():
    into = obj(e=at(inp(), 0), i=at(inp(), 1), n=FunctionCall("count", COUNT, (at(inp(), 2),)),
               id=fld(at(inp(), 3), "id"))
    op = ArraySplit(inputs=[src({"id": "a", "xs": ["p", "q"]})], path=fld(inp(), "xs"), projection=into)
    assert run(op) == [{"e": "p", "i": 0, "n": 2, "id": "a"}, {"e": "q", "i": 1, "n": 2, "id": "a"}]


def test_split_array_of_whole_records_and_error_naming_record():
    assert run(ArraySplit(inputs=[src([1, 2], [3])])) == [1, 2, 3]
    with pytest.raises(OperatorError, match='"id": 7'):
        run(ArraySplit(inputs=[src({"id": 7, "xs": 5})], path=fld(inp(), "xs")))


def test_split_object_into_sees_value_and_name():
    op = ObjectSplit(inputs=[src({"o": {"a": 1, "b": 2}})], path=fld(inp(), "o"),
                     projection=obj(k=at(inp(), 1), v=at(inp(), 0)))
    assert run(op) == [{"k": "a", "v": 1}, {"k": "b", "v": 2}]
    with pytest.raises(OperatorError, match="not an object"):
        run(ObjectSplit(inputs=[src({"o": [1]})], path=fld(inp(), "o")))


def test_split_value_emits_one_record_per_projection():
    op = ValueSplit(inputs=[src({"a": 1, "b": 2}, {"a": 3})], projections=arr(fld(inp(), "a"), fld(inp(), "b")))
    assert run(op) == [1, 2, 3]
    with pytest.raises(OperatorError):
        run(ValueSplit(inputs=[src({"a": 1})], projections=fld(inp(), "a")))


ARTICLES = [{"id": 1, "annotations": [{"entity": "ann"}, {"entity": "bob"}, {"entity": "ann"}]},
            {"id": 2, "annotations": [{"entity": "bob"}]}, {"id": 3, "annotations": []}, {"id": 4}]


def test_pivot_on_array_values():
    around = ("person", ArrayProjection(fld(inp(), "annotations"), fld(ElementRef(), "entity")))
    into = obj(name=Var("person"), articles=ArrayProjection(inp(), fld(ElementRef(), "id")))
    result = run(Pivot(inputs=[src(*ARTICLES)], around=around, projection=into))
    assert canon(result) == canon([{"name": "ann", "articles": [1]}, {"name": "bob", "articles": [1, 2]}])


def test_pivot_on_scalar_with_default_into():
    rows = [{"k": "x", "i": 1}, {"k": "y", "i": 2}, {"k": "x", "i": 3}]
    result = run(Pivot(inputs=[src(*rows)], around=("k", fld(inp(), "k"))))
    assert canon(result) == canon([{"k": "x", "records": [rows[0], rows[2]]}, {"k": "y", "records": [rows[1]]}])


def test_pivot_needs_a_binding():
    with pytest.raises(PropertyError):
        Pivot(inputs=[src()], around=fld(inp(), "k")).validate()


EMPS = [{"name": "ann", "dept": 1, "loc": "b"}, {"name": "bob", "dept": 2, "loc": "b"},
        {"name": "cid", "dept": 1, "loc": "b"}, {"name": "dan", "dept": 1, "loc": "m"}]


def test_nest_by_path_names_the_key_field():
    result = run(Nest(inputs=[src(*EMPS)], key=fld(inp(), "dept"), field="staff"))
    expected = [{"dept": 1, "staff": [EMPS[0], EMPS[2], EMPS[3]]}, {"dept": 2, "staff": [EMPS[1]]}]
    assert canon(result) == canon(expected)


def test_nest_by_array_and_object_keys():
    by_array = run(Nest(inputs=[src(*EMPS)], key=arr(fld(inp(), "dept"), fld(inp(), "loc"))))
    assert canon(by_array) == canon([{"dept": 1, "loc": "b", "items": [EMPS[0], EMPS[2]]},
                                     {"dept": 2, "loc": "b", "items": [EMPS[1]]},
                                     {"dept": 1, "loc": "m", "items": [EMPS[3]]}])
    by_object = run(Nest(inputs=[src(*EMPS)], key=obj(d=fld(inp(), "dept"))))
    assert canon(by_object) == canon([{"d": 1, "items": [EMPS[0], EMPS[2], EMPS[3]]}, {"d": 2, "items": [EMPS[1]]}])
    assert canon(run(Nest(inputs=[src(1, 2, 1)], key=inp()))) == canon([{"key": 1, "items": [1, 1]},
                                                                        {"key": 2, "items": [2]}])


def test_unnest_replaces_the_array_by_each_element():
    rows = [{"o": 1, "items": [{"sku": "a"}, {"sku": "b"}]}, {"o": 2, "items": []}, {"o": 3}]
    assert run(Unnest(inputs=[src(*rows)], path=fld(inp(), "items"))) == [
        {"o": 1, "items": {"sku": "a"}}, {"o": 1, "items": {"sku": "b"}}]
    into = obj(o=fld(inp(), "o"), sku=fld(inp(), "items", "sku"))
    assert run(Unnest(inputs=[src(*rows)], path=fld(inp(), "items"), projection=into)) == [
        {"o": 1, "sku": "a"}, {"o": 1, "sku": "b"}]


def test_unnest_inverts_nest_and_rejects_non_arrays():
    nested = Nest(inputs=[src(*EMPS)], key=fld(inp(), "dept"))
    flat = Unnest(inputs=[nested.output()], path=fld(inp(), "items"), projection=fld(inp(), "items"))
    assert canon(run(flat)) == canon(EMPS)
    with pytest.raises(OperatorError, match="not an array"):
        run(Unnest(inputs=[src({"items": 3})], path=fld(inp(), "items")))
    with pytest.raises(PropertyError):
        Unnest(inputs=[src()], path=ObjectConstruction(())).validate()
