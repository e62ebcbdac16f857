"""The terms of the franchise-kg ontology, as an rdflib DefinedNamespace.

Generated from ontology/franchise.ttl by `python -m kg.codegen`; do not edit by hand.
"""

from rdflib.namespace import DefinedNamespace, Namespace
from rdflib.term import URIRef


class FKG(DefinedNamespace):
    """
    Franchise knowledge graph ontology

    Terms for a knowledge graph of a film franchise built from news articles: works, the people who make and act in them, the characters they play, the organizations and places of the story, and claims tracing every extracted fact to the sentence of the article that stated it.

    Generated from: ontology/franchise.ttl
    Version: 0.1.0
    """

    _fail = True

    # http://www.w3.org/2002/07/owl#Class
    Actor: URIRef  # A person who performs a role in a work.
    Article: URIRef  # A source document: one news article the facts were extracted from.
    Character: URIRef  # A fictional character of the franchise's story, such as John Wick or the Director.
    Claim: URIRef  # The statement of one fact by one sentence of an article; in the graph also an rdf:Statement naming the fact's subject, predicate and object.
    Company: URIRef  # A real company: a studio, a production company or a distributor.
    Conflict: URIRef  # Several values claimed for a single-valued property of one subject, and whether and how the disagreement was resolved.
    CriminalOrganization: URIRef  # A criminal organization of the story, such as the High Table or the Ruska Roma.
    Film: URIRef  # A feature film.
    Franchise: URIRef  # A media franchise: the body of works sharing a fictional world, such as John Wick.
    Hotel: URIRef  # A hotel run as an organization of the story, such as the Continental.
    Organization: URIRef  # An organization, real (a studio, a distributor) or of the story (a crime family, a hotel).
    Performance: URIRef  # One person playing one character in one work: the n-ary relation behind hasCastMember, portrays and appearsIn.
    Person: URIRef  # A real person: an actor, director, writer or producer. Fictional people are fkg:Character (schema:Person also covers fictional people, so ours is a subclass of it, not an equivalent).
    Place: URIRef  # A geographical place: a city, a country, a region.
    TVSeries: URIRef  # A television series, including a streaming series.
    Work: URIRef  # A film or television series of the franchise.

    # http://www.w3.org/2002/07/owl#ObjectProperty
    appearsIn: URIRef  # The character appears in the work. Implied by any Performance of the character in the work.
    character: URIRef  # The character played in the performance. Single-valued, but not functional: when sources disagree both values are kept and marked by a fkg:Conflict.
    characterIn: URIRef  # A performance of the character; the inverse of fkg:character, named so that property chains can use it.
    conflictProperty: URIRef  # The single-valued property that has several values (the property's IRI, used as an individual).
    conflictSubject: URIRef  # The entity whose single-valued property has several values.
    conflictingClaim: URIRef  # A claim of one of the several values.
    createdBy: URIRef  # A person who created the franchise or the work.
    directedBy: URIRef  # A director of the work.
    distributedBy: URIRef  # An organization that distributes the work.
    filmedIn: URIRef  # A place where the work was filmed.
    hasCastMember: URIRef  # A person who performs in the work. Implied by any Performance of the person in the work.
    hasPerformance: URIRef  # A performance in the work; the inverse of fkg:work, named so that property chains can use it.
    leaderOf: URIRef  # The character leads the organization of the story.
    memberOf: URIRef  # The character belongs to the organization of the story.
    ownerOf: URIRef  # The character owns or manages the organization of the story, such as a hotel.
    partOfFranchise: URIRef  # The franchise the work belongs to.
    performer: URIRef  # The one person who gives the performance.
    performerIn: URIRef  # A performance the person gives; the inverse of fkg:performer, named so that property chains can use it.
    portrays: URIRef  # The person plays the character, in some work. Implied by any Performance of the person as the character.
    preferredClaim: URIRef  # A claim of the value preferred once the conflict is resolved: the value stated by the newest dated article. Every claim of that value is preferred, so a conflict may have several, all of one value.
    producedBy: URIRef  # A producer of the work.
    sequelOf: URIRef  # The work is a sequel of the other, released after it and continuing it. Narrower than Wikidata's 'follows'.
    setAfter: URIRef  # The work's story takes place after the other work's story (story chronology, not release order).
    setBefore: URIRef  # The work's story takes place before the other work's story (story chronology, not release order).
    spinOffOf: URIRef  # The work is a spin-off of another work or of a whole franchise.
    trainedBy: URIRef  # The character was trained by the organization of the story.
    work: URIRef  # The one work the performance is in.
    worksFor: URIRef  # The character works for the organization of the story.
    writtenBy: URIRef  # A screenwriter of the work.

    # http://www.w3.org/2002/07/owl#DatatypeProperty
    confidence: URIRef  # How far the extraction rule is trusted, between 0 and 1.
    conflictStatus: URIRef  # "open" while the sources' disagreement stands, "resolved" once the newest dated source's value is preferred.
    endOffset: URIRef  # Character offset in the article text just after the evidence sentence ends.
    evidence: URIRef  # The sentence of the article that states the claimed fact, as it appears in the text.
    extractedBy: URIRef  # The id of the extraction rule that produced the claim.
    fileName: URIRef  # The name of the file the article's text was read from.
    preferred: URIRef  # Whether the claim's value won a resolved conflict (true) or lost it (false); absent when the claim is in no resolved conflict.
    releaseDate: URIRef  # When the work is or was first released, to the precision the source gives: a day (xsd:date), a month (xsd:gYearMonth) or a year (xsd:gYear).
    sha256: URIRef  # The SHA-256 digest of the article's text, in lower-case hexadecimal.
    startOffset: URIRef  # Character offset in the article text where the evidence sentence starts.

    # http://www.w3.org/2002/07/owl#AnnotationProperty
    singleValued: URIRef  # Set to true on a property that should have one value per subject. Deliberately not owl:FunctionalProperty: when sources disagree every value is kept and the builder records a fkg:Conflict, rather than the graph becoming logically inconsistent.

    _NS = Namespace("https://w3id.org/franchise-kg/ontology#")
