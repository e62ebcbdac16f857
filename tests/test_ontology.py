"""ontology/franchise.ttl: its terms, their types, domains and ranges, its logic, and what is generated from it."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import owlready2
import pytest
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.collection import Collection
from rdflib.compare import isomorphic
from rdflib.namespace import OWL, PROV, RDF, RDFS, SKOS, XSD

from kg import codegen
from kg._fkg import FKG

ROOT = Path(__file__).resolve().parent.parent
ONTOLOGY = ROOT / "ontology" / "franchise.ttl"
CONTEXT = ROOT / "ontology" / "context.jsonld"
ONTOLOGY_IRI = URIRef("https://w3id.org/franchise-kg/ontology")
F = Namespace("https://w3id.org/franchise-kg/ontology#")
FKR = Namespace("https://w3id.org/franchise-kg/id/")
SCHEMA = Namespace("https://schema.org/")
WDT = Namespace("http://www.wikidata.org/prop/direct/")
WD = Namespace("http://www.wikidata.org/entity/")

# class -> its fkg superclass (None: a top class)
CLASSES = {
    "Work": None, "Film": "Work", "TVSeries": "Work", "Franchise": None,
    "Person": None, "Actor": "Person", "Character": None,
    "Organization": None, "CriminalOrganization": "Organization", "Company": "Organization",
    "Hotel": "Organization", "Place": None, "Performance": None, "Article": None,
    "Claim": None, "Conflict": None,
}

# object property -> (domain, range); a frozenset is a union, None is no declared axiom
OBJECT_PROPERTIES = {
    "hasCastMember": ("Work", "Person"),
    "portrays": ("Person", "Character"),
    "appearsIn": ("Character", "Work"),
    "directedBy": ("Work", "Person"),
    "writtenBy": ("Work", "Person"),
    "producedBy": ("Work", "Person"),
    "distributedBy": ("Work", "Organization"),
    "filmedIn": ("Work", "Place"),
    "spinOffOf": ("Work", frozenset({"Work", "Franchise"})),
    "partOfFranchise": ("Work", "Franchise"),
    "sequelOf": ("Work", "Work"),
    "setAfter": ("Work", "Work"),
    "setBefore": ("Work", "Work"),
    "memberOf": ("Character", "Organization"),
    "leaderOf": ("Character", "Organization"),
    "trainedBy": ("Character", "Organization"),
    "worksFor": ("Character", "Organization"),
    "ownerOf": ("Character", "Organization"),
    "createdBy": (frozenset({"Franchise", "Work"}), "Person"),
    "performer": ("Performance", "Person"),
    "character": ("Performance", "Character"),
    "work": ("Performance", "Work"),
    "hasPerformance": ("Work", "Performance"),
    "performerIn": ("Person", "Performance"),
    "characterIn": ("Character", "Performance"),
    "conflictSubject": ("Conflict", None),
    "conflictProperty": ("Conflict", None),
    "conflictingClaim": ("Conflict", "Claim"),
    "preferredClaim": ("Conflict", "Claim"),
}

# datatype property -> (domain, range)
DATATYPE_PROPERTIES = {
    "releaseDate": ("Work", frozenset({XSD.date, XSD.gYearMonth, XSD.gYear})),
    "evidence": ("Claim", XSD.string),
    "startOffset": ("Claim", XSD.integer),
    "endOffset": ("Claim", XSD.integer),
    "extractedBy": ("Claim", XSD.string),
    "confidence": ("Claim", XSD.decimal),
    "preferred": ("Claim", XSD.boolean),
    "fileName": ("Article", XSD.string),
    "sha256": ("Article", XSD.string),
    "conflictStatus": ("Conflict", XSD.string),
}


@pytest.fixture(scope="module")
def onto() -> Graph:
    return Graph().parse(ONTOLOGY, format="turtle")


def _expr(graph: Graph, node):
    """A class or datatype expression as a local name / IRI, or a frozenset for a union."""
    if node is None:
        return None
    if isinstance(node, BNode):
        members = graph.value(node, OWL.unionOf)
        assert members is not None, f"unexpected anonymous expression {node}"
        return frozenset(_expr(graph, m) for m in Collection(graph, members))
    return str(node)[len(str(F)):] if str(node).startswith(str(F)) else node


def test_ontology_header(onto):
    assert (ONTOLOGY_IRI, RDF.type, OWL.Ontology) in onto
    assert str(onto.value(ONTOLOGY_IRI, OWL.versionInfo)) == "0.1.0"
    assert onto.value(ONTOLOGY_IRI, RDFS.label) is not None
    assert onto.value(ONTOLOGY_IRI, RDFS.comment) is not None


def test_terms_are_exactly_these(onto):
    declared = {
        kind: {str(s)[len(str(F)):] for s in onto.subjects(RDF.type, kind) if str(s).startswith(str(F))}
        for kind in (OWL.Class, OWL.ObjectProperty, OWL.DatatypeProperty, OWL.AnnotationProperty)
    }
    assert declared[OWL.Class] == set(CLASSES)
    assert declared[OWL.ObjectProperty] == set(OBJECT_PROPERTIES)
    assert declared[OWL.DatatypeProperty] == set(DATATYPE_PROPERTIES)
    assert declared[OWL.AnnotationProperty] == {"singleValued"}


def test_every_term_has_label_and_comment(onto):
    terms = {s for s in onto.subjects() if isinstance(s, URIRef) and str(s).startswith(str(F))}
    assert len(terms) == len(CLASSES) + len(OBJECT_PROPERTIES) + len(DATATYPE_PROPERTIES) + 1
    for term in terms:
        assert onto.value(term, RDFS.label) is not None, term
        assert onto.value(term, RDFS.comment) is not None, term


@pytest.mark.parametrize("name,parent", sorted(CLASSES.items(), key=lambda kv: kv[0]))
def test_class_hierarchy(onto, name, parent):
    parents = {_expr(onto, o) for o in onto.objects(F[name], RDFS.subClassOf)}
    fkg_parents = {p for p in parents if isinstance(p, str) and not p.startswith("http")}
    assert fkg_parents == ({parent} if parent else set())


@pytest.mark.parametrize("name", sorted(OBJECT_PROPERTIES))
def test_object_property_domain_range(onto, name):
    domain, range_ = OBJECT_PROPERTIES[name]
    assert _expr(onto, onto.value(F[name], RDFS.domain)) == domain
    assert _expr(onto, onto.value(F[name], RDFS.range)) == range_


@pytest.mark.parametrize("name", sorted(DATATYPE_PROPERTIES))
def test_datatype_property_domain_range(onto, name):
    domain, range_ = DATATYPE_PROPERTIES[name]
    assert _expr(onto, onto.value(F[name], RDFS.domain)) == domain
    assert _expr(onto, onto.value(F[name], RDFS.range)) == range_


def test_functional_and_single_valued(onto):
    functional = {str(s)[len(str(F)):] for s in onto.subjects(RDF.type, OWL.FunctionalProperty)}
    assert functional == {"performer", "work"}
    single = {str(s)[len(str(F)):] for s in onto.subjects(F.singleValued, Literal(True))}
    assert single == {"releaseDate", "character"}


def test_inverses_and_chains(onto):
    inverses = {(str(s)[len(str(F)):], str(o)[len(str(F)):]) for s, o in onto.subject_objects(OWL.inverseOf)}
    assert {("setAfter", "setBefore"), ("hasPerformance", "work"), ("performerIn", "performer"),
            ("characterIn", "character")} <= inverses
    chains = {
        str(s)[len(str(F)):]: [str(p)[len(str(F)):] for p in Collection(onto, o)]
        for s, o in onto.subject_objects(OWL.propertyChainAxiom)
    }
    assert chains == {
        "hasCastMember": ["hasPerformance", "performer"],
        "appearsIn": ["characterIn", "work"],
        "portrays": ["performerIn", "character"],
    }


def test_disjointness(onto):
    (axiom,) = onto.subjects(RDF.type, OWL.AllDisjointClasses)
    members = {_expr(onto, m) for m in Collection(onto, onto.value(axiom, OWL.members))}
    assert {"Person", "Character", "Work", "Organization", "Place", "Franchise"} <= members
    assert (F.Film, OWL.disjointWith, F.TVSeries) in onto


@pytest.mark.parametrize(
    "term,relation,target",
    [
        (F.hasCastMember, SKOS.exactMatch, WDT.P161),
        (F.hasCastMember, RDFS.subPropertyOf, SCHEMA.actor),
        (F.character, SKOS.closeMatch, WDT.P453),
        (F.directedBy, RDFS.subPropertyOf, SCHEMA.director),
        (F.directedBy, SKOS.exactMatch, WDT.P57),
        (F.writtenBy, SKOS.exactMatch, WDT.P58),
        (F.producedBy, RDFS.subPropertyOf, SCHEMA.producer),
        (F.producedBy, SKOS.exactMatch, WDT.P162),
        (F.releaseDate, RDFS.subPropertyOf, SCHEMA.datePublished),
        (F.releaseDate, SKOS.exactMatch, WDT.P577),
        (F.distributedBy, SKOS.exactMatch, WDT.P750),
        (F.filmedIn, SKOS.exactMatch, WDT.P915),
        (F.partOfFranchise, SKOS.exactMatch, WDT.P8345),
        (F.createdBy, SKOS.exactMatch, WDT.P170),
        (F.sequelOf, SKOS.closeMatch, WDT.P155),
        (F.memberOf, SKOS.closeMatch, WDT.P463),
        (F.Film, OWL.equivalentClass, SCHEMA.Movie),
        (F.Film, SKOS.exactMatch, WD.Q11424),
        (F.TVSeries, OWL.equivalentClass, SCHEMA.TVSeries),
        (F.TVSeries, SKOS.exactMatch, WD.Q5398426),
        (F.Person, RDFS.subClassOf, SCHEMA.Person),
        (F.Person, SKOS.exactMatch, WD.Q5),
        (F.Character, SKOS.exactMatch, WD.Q95074),
        (F.Organization, SKOS.closeMatch, SCHEMA.Organization),
        (F.Place, SKOS.closeMatch, SCHEMA.Place),
        (F.Article, SKOS.closeMatch, SCHEMA.NewsArticle),
    ],
)
def test_alignment(onto, term, relation, target):
    assert (term, relation, target) in onto


def test_mapping_properties_are_annotations(onto):
    # Without these declarations skos:closeMatch between classes would take the ontology out of OWL 2 DL.
    for prop in (SKOS.exactMatch, SKOS.closeMatch):
        assert (prop, RDF.type, OWL.AnnotationProperty) in onto


def _owlready(graph: Graph, tmp_path: Path):
    path = tmp_path / "franchise.nt"
    graph.serialize(path, format="nt", encoding="utf-8")
    world = owlready2.World()
    ontology = world.get_ontology(str(ONTOLOGY_IRI)).load(fileobj=open(path, "rb"), format="ntriples")
    return world, ontology


def test_owlready2_loads_it_and_hermit_finds_it_consistent(onto, tmp_path):
    world, ontology = _owlready(onto, tmp_path)
    assert ontology.Film in ontology.Work.subclasses()
    assert ontology.performer.domain == [ontology.Performance]
    with ontology:
        owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)
    assert list(world.inconsistent_classes()) == []
    # the reasoner agrees Film is schema:Movie, through the equivalence
    assert world["https://schema.org/Movie"] in ontology.Film.equivalent_to


def test_hermit_sees_the_disjointness(onto, tmp_path):
    clash = Graph()
    clash += onto
    clash.add((FKR["person/x"], RDF.type, F.Person))
    clash.add((FKR["person/x"], RDF.type, F.Film))
    world, ontology = _owlready(clash, tmp_path)
    with ontology, pytest.raises(owlready2.OwlReadyInconsistentOntologyError):
        owlready2.sync_reasoner_hermit(world, debug=0, ignore_unsupported_datatypes=True)


def test_generated_namespace_is_current():
    assert (ROOT / "kg" / "_fkg.py").read_text(encoding="utf-8") == codegen.generate(ONTOLOGY)


def test_generated_namespace_fails_on_a_misspelt_term():
    assert FKG.directedBy == URIRef("https://w3id.org/franchise-kg/ontology#directedBy")
    with pytest.raises(AttributeError):
        FKG.directedby  # noqa: B018


def test_context_is_current():
    assert CONTEXT.read_text(encoding="utf-8") == codegen.generate_context(ONTOLOGY)


def test_context_terms():
    context = json.loads(CONTEXT.read_text(encoding="utf-8"))["@context"]
    assert context["fkr"] == "https://w3id.org/franchise-kg/id/"
    assert context["directedBy"] == {"@id": "fkg:directedBy", "@type": "@id"}
    assert context["startOffset"] == {"@id": "fkg:startOffset", "@type": "xsd:integer"}
    assert context["confidence"] == {"@id": "fkg:confidence", "@type": "xsd:decimal"}
    assert context["releaseDate"] == {"@id": "fkg:releaseDate"}
    assert context["Film"] == "fkg:Film"


def _small_graph() -> Graph:
    g = Graph()
    film, person, claim = FKR["work/ballerina"], FKR["person/len-wiseman"], FKR["claim/9c0e"]
    g.add((film, RDF.type, F.Film))
    g.add((film, SKOS.prefLabel, Literal("Ballerina")))
    g.add((film, F.directedBy, person))
    g.add((film, F.releaseDate, Literal("2025-06-06", datatype=XSD.date)))
    g.add((FKR["work/john-wick"], F.releaseDate, Literal("2014", datatype=XSD.gYear)))
    g.add((person, RDF.type, F.Person))
    g.add((claim, RDF.type, F.Claim))
    g.add((claim, RDF.subject, film))
    g.add((claim, RDF.predicate, F.directedBy))
    g.add((claim, RDF.object, person))
    g.add((claim, PROV.wasDerivedFrom, FKR["article/5b1f"]))
    g.add((claim, F.evidence, Literal("It will be directed by Len Wiseman.")))
    g.add((claim, F.startOffset, Literal(520)))
    g.add((claim, F.endOffset, Literal(631)))
    g.add((claim, F.confidence, Literal(Decimal("0.9"))))
    g.add((claim, F.preferred, Literal(True)))
    return g


def test_context_compacts_and_round_trips():
    g = _small_graph()
    context = json.loads(CONTEXT.read_text(encoding="utf-8"))["@context"]
    text = g.serialize(format="json-ld", context=context)
    doc = json.loads(text)
    # rdflib shortens an IRI with a prefix only when the prefix is its whole namespace (up to the
    # last / or #), so fkr: IRIs, which have a kind segment after the prefix, stay whole.
    nodes = {node["@id"]: node for node in doc["@graph"]}
    ballerina = nodes[str(FKR["work/ballerina"])]
    assert ballerina["@type"] == "Film"
    assert ballerina["directedBy"] == str(FKR["person/len-wiseman"])
    assert ballerina["prefLabel"] == "Ballerina"
    assert ballerina["releaseDate"] == {"@type": "xsd:date", "@value": "2025-06-06"}
    assert nodes[str(FKR["work/john-wick"])]["releaseDate"] == {"@type": "xsd:gYear", "@value": "2014"}
    claim = nodes[str(FKR["claim/9c0e"])]
    assert claim["startOffset"] == "520"
    assert claim["confidence"] == "0.9"
    assert claim["predicate"] == "fkg:directedBy"
    back = Graph().parse(data=text, format="json-ld")
    assert isomorphic(back, g)
