"""Finding articles: full-text search over published articles the reader may see.

On PostgreSQL each article keeps a weighted ``tsvector`` (title A, symptoms and its
services' and categories' names B, body C) under a GIN index. A query is read with
``websearch_to_tsquery`` (quotes make phrases, ``-word`` excludes), ranked with
``ts_rank``, and its matching words are marked with ``ts_headline``.

People type questions, not keyword lists, so when requiring every word finds too
little the search falls back to the articles that match some of the words (and
the synonyms below): each word counts for the field it is found in, and an
article needs a minimum mean over the words, so a single common word does not
drag in unrelated articles. Query words the reader's vocabulary does not know are
corrected against it (``SearchTerm``: the words of the articles they may read): by
trigram similarity for long words (``pg_trgm``), by edit distance for short ones,
which share no trigram with what was meant ("vnp" and "vpn"), with
``fuzzystrmatch``'s levenshtein.

Any other database (the embedded SQLite of ``make run``) gets the same steps done
plainly in Python over the visible articles: worse ranking, no errors.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import SearchHeadline, SearchQuery, SearchRank
from django.db import connection
from django.db.models import F, FloatField, Q, QuerySet, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from kb.models import Article, SearchTerm

CONFIG = "english"
# ts_rank's weights for D, C, B, A: body, symptoms, title.
WEIGHTS = [0.05, 0.2, 0.4, 1.0]
# What a query word found in the title, the symptoms or the body counts for when
# the search falls back to some of the words, and the least mean an article needs.
FIELD_POINTS = (1.0, 0.4, 0.2)
MIN_FALLBACK_SCORE = 0.3
# Fewer strict matches than this: add the best of those matching any word.
FALLBACK_BELOW = 3
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
# A word's stem as the index has it, in SQL (the word itself if it has none).
STEM_SQL = (
    "coalesce(nullif(array_to_string(tsvector_to_array(to_tsvector("
    f"'{CONFIG}', {{word}})), ' '), ''), {{word}})"
)
# The most articles one query ranks (see _newest), and when some words will do.
RANK_AT_MOST = 2000
FALLBACK_AT_MOST = 500
# A word in more published articles than this says too little to rank articles
# that match only some of the query by it ("users", "error").
COMMON_TERM_DOCUMENTS = 1000
# Words up to this length are corrected by edit distance, longer ones by trigrams.
SHORT_WORD = 4
TRIGRAM_THRESHOLD = 0.4

_WORD = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*", re.UNICODE)
_START, _STOP = "\x02", "\x03"

STOPWORDS = frozenset(
    """a about above after again all am an and any are as at be because been
    before being below between both but by can cannot could did do does doing don
    down during each few for from further had has have having he her here hers how
    i if in into is it its itself just me more most my myself no nor not now of off
    on once only or other our ours out over own same she should so some such than
    that the their them then there these they this those through to too under
    until up very was we were what when where which while who whom why will with
    would you your yours get got keep keeps help please won't can't don't
    doesn't isn't didn't wont cant dont doesnt isnt""".split()
)
# Negations typed as contractions: English full text search would keep their
# first half ("won"), which no article means.
_CONTRACTION = re.compile(r"\b\w+n['’]t\b", re.IGNORECASE)

# Words people use for the same thing. Each group is one meaning; a query word of
# a group also looks for the others when the search falls back to any word.
SYNONYM_GROUPS = [
    {"email", "e-mail", "mail", "outlook", "mailbox"},
    {"wifi", "wi-fi", "wireless", "wlan"},
    {"vpn", "remote access", "globalprotect"},
    {"login", "log in", "sign in", "signin", "logon"},
    {"password", "passphrase", "credentials"},
    {"laptop", "notebook", "computer", "pc"},
    {"printer", "printing", "print"},
    {"slow", "sluggish", "lag", "laggy"},
    {"disconnect", "disconnects", "drops", "dropping", "disconnected"},
    {"payslip", "pay slip", "salary", "payroll"},
    {"mfa", "2fa", "two-factor", "authenticator"},
    {"crash", "crashes", "freezes", "hangs"},
]
SYNONYMS: dict[str, set[str]] = {}
for _group in SYNONYM_GROUPS:
    for _word in _group:
        SYNONYMS.setdefault(_word, set()).update(_group - {_word})


@dataclass(frozen=True)
class Hit:
    article: Article
    score: float
    # The title and a passage of the text, escaped, matching words in <mark>.
    title_html: SafeString
    excerpt_html: SafeString


@dataclass
class SearchResult:
    query: str
    hits: list[Hit] = field(default_factory=list)
    # The query as corrected, when a word was corrected ("" otherwise).
    corrected: str = ""
    # Whether the hits include articles matching only some of the words.
    fell_back: bool = False

    @property
    def articles(self) -> list[Article]:
        return [hit.article for hit in self.hits]


def words_of(text: str) -> list[str]:
    """The words of ``text``, lower case, in order."""
    return [match.group(0).lower() for match in _WORD.finditer(text or "")]


def query_terms(query: str) -> list[str]:
    """The words of a query that carry meaning: not stop words, not excluded
    (``-word``), at most ``MAX_QUERY_WORDS``; each once."""
    kept = re.sub(r"(^|\s)-\S+", " ", query)
    seen: dict[str, None] = {}
    for word in words_of(kept):
        if word not in STOPWORDS and len(word) > 1:
            seen.setdefault(word, None)
    return list(seen)[:MAX_QUERY_WORDS]


def article_search(
    *,
    articles: QuerySet[Article],
    query: str,
    public_vocabulary: bool,
    limit: int = 10,
    correct: bool = True,
) -> SearchResult:
    """The published articles among ``articles`` (already the reader's visible
    ones) that best match ``query``, best first, at most ``limit``. Without
    ``correct``, words are taken as they are (text nobody typed as a query)."""
    query = " ".join((query or "")[:MAX_QUERY_CHARS].split())
    result = SearchResult(query=query)
    terms = query_terms(query)
    if not terms:
        return result
    published = articles.filter(status=Article.Status.PUBLISHED)
    engine = _Postgres() if connection.vendor == "postgresql" else _Plain()
    corrections = {}
    if correct:
        unknown = engine.unmatched(published, terms, public=public_vocabulary)
        corrections = engine.corrections(unknown, public=public_vocabulary)
    if corrections:
        query = _replace_words(query, corrections)
        terms = [corrections.get(term, term) for term in terms]
        result.corrected = query
    result.hits, result.fell_back = engine.search(published, query, terms, limit)
    return result


def _replace_words(query: str, corrections: dict[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        return corrections.get(match.group(0).lower(), match.group(0))

    return _WORD.sub(swap, query)


def expanded(terms: Iterable[str]) -> list[str]:
    """The terms with their synonyms, each once, the terms first."""
    out: dict[str, None] = dict.fromkeys(terms)
    for term in list(out):
        for synonym in sorted(SYNONYMS.get(term, ())):
            out.setdefault(synonym, None)
    return list(out)


_MARKDOWN_SYNTAX = re.compile(r"\*\*|__|`|^\s*#+\s*|^\s*>\s*", re.MULTILINE)


def _marked(text: str) -> SafeString:
    """Text with the engine's start and stop marks, escaped, marks made <mark>;
    Markdown's emphasis and heading signs left out (a passage is plain text)."""
    safe = escape(_MARKDOWN_SYNTAX.sub("", text))
    return mark_safe(safe.replace(_START, "<mark>").replace(_STOP, "</mark>"))


def osa_distance(a: str, b: str) -> int:
    """Edit distance counting a swap of neighbours as one edit ("vnp" -> "vpn")."""
    rows = [list(range(len(b) + 1))]
    for i in range(1, len(a) + 1):
        row = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            row[j] = min(rows[-1][j] + 1, row[j - 1] + 1, rows[-1][j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                row[j] = min(row[j], rows[-2][j - 2] + 1)
        rows.append(row)
    return rows[-1][len(b)]


def _best_by_distance(word: str, candidates: list[tuple[str, int]]) -> str | None:
    """The closest candidate within one edit (two for longer words), the more
    widely used one on a tie."""
    allowed = 1 if len(word) <= SHORT_WORD else 2
    scored = [
        (osa_distance(word, candidate), -documents, candidate)
        for candidate, documents in candidates
        if candidate != word
    ]
    scored = [item for item in scored if item[0] <= allowed]
    return min(scored)[2] if scored else None


class _Postgres:
    """Full text search in the database."""

    def unmatched(
        self, published: QuerySet[Article], terms: list[str], *, public: bool
    ) -> list[str]:
        """The terms the reader's vocabulary does not know: the ones to correct.
        (A stop word of the English configuration means nothing and is never
        corrected.) One query on the vocabulary's unique index."""
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT t.word FROM unnest(%s::text[]) WITH ORDINALITY AS t(word, n) "
                f"WHERE numnode(plainto_tsquery('{CONFIG}', t.word)) > 0 "
                "AND NOT EXISTS (SELECT 1 FROM kb_searchterm v "
                "WHERE v.public = %s AND v.word = t.word) ORDER BY n",
                [terms, public],
            )
            return [row[0] for row in cursor.fetchall()]

    def corrections(self, words: list[str], *, public: bool) -> dict[str, str]:
        found = {}
        with connection.cursor() as cursor:
            for word in words:
                if len(word) > SHORT_WORD:
                    # The % operator is served by the trigram index on the word.
                    cursor.execute(
                        "SELECT set_config('pg_trgm.similarity_threshold', %s, true)",
                        [str(TRIGRAM_THRESHOLD)],
                    )
                    cursor.execute(
                        "SELECT word FROM kb_searchterm WHERE public = %s "
                        "AND word %% %s ORDER BY similarity(word, %s) DESC, "
                        "documents DESC, word LIMIT 1",
                        [public, word, word],
                    )
                    row = cursor.fetchone()
                    best = row[0] if row and row[0] != word else None
                else:
                    cursor.execute(
                        "SELECT word, documents FROM kb_searchterm "
                        "WHERE public = %s AND length BETWEEN %s AND %s "
                        "AND left(word, 1) = left(%s, 1) "
                        "AND levenshtein_less_equal(word, %s, 2) <= 2 "
                        "ORDER BY levenshtein(word, %s), documents DESC LIMIT 25",
                        [public, len(word) - 1, len(word) + 1, word, word, word],
                    )
                    best = _best_by_distance(word, cursor.fetchall())
                if best and not self._same_stem(cursor, word, best):
                    found[word] = best
        return found

    @staticmethod
    def _same_stem(cursor: Any, word: str, other: str) -> bool:
        """Whether the two words are one to the index ("disconnects" and
        "disconnect"): then there is nothing to correct."""
        cursor.execute(
            f"SELECT plainto_tsquery('{CONFIG}', %s) = plainto_tsquery('{CONFIG}', %s)",
            [word, other],
        )
        return cursor.fetchone()[0]

    def search(
        self, published: QuerySet[Article], query: str, terms: list[str], limit: int
    ) -> tuple[list[Hit], bool]:
        query = _CONTRACTION.sub(" ", query)
        strict = SearchQuery(query, search_type="websearch", config=CONFIG)
        vector = F("search_vector")

        def ranked(matching: QuerySet[Article]) -> list[tuple[int, float, Any]]:
            best = (
                matching.annotate(score=SearchRank(vector, strict, weights=WEIGHTS))
                .order_by("-score", "-id")
                .values_list("id", "score")[:limit]
            )
            return [(pk, score, strict) for pk, score in best]

        matching = published.filter(search_vector=strict)
        # Those with a word in the title or the symptoms first: they outrank the
        # ones that have them only in the body, and a common word would have
        # tens of thousands of body matches to rank for nothing. Only when they
        # are too few to fill the page are all the matches ranked.
        rows = ranked(
            _newest(matching.filter(search_vector=_in_title_or_symptoms(terms)))
        )
        if len(rows) < limit:
            rows = ranked(matching)
        fell_back = False
        if len(rows) < min(limit, FALLBACK_BELOW):
            fell_back = True
            rows += self._any_word(published, query, terms, limit, {r[0] for r in rows})
        return self._hits(rows[:limit]), fell_back

    def _any_word(
        self,
        published: QuerySet[Article],
        query: str,
        terms: list[str],
        limit: int,
        exclude: set[int],
    ) -> list[tuple[int, float, SearchQuery]]:
        """Articles matching some of the terms (or their synonyms). Each term
        counts for where it is found (title 1, symptoms 0.4, body 0.2) and the
        score is the mean over the terms, at least ``MIN_FALLBACK_SCORE``: a
        single word in a long question is not enough. Rank breaks ties."""
        common = self._common(terms)
        # Words too common to find anything by are left to the strict phase.
        terms = [term for term in terms if term not in common] or terms
        groups = [[term, *sorted(SYNONYMS.get(term, ()))] for term in terms]
        anyword = _any_of(expanded(terms))
        # Candidates match a word in the title or the symptoms: an article that
        # has the words only in its body never reaches the minimum score, and a
        # common word's body matches would all be ranked for nothing.
        candidates = published.filter(
            search_vector=_weighted(expanded(terms), "AB")
        ).exclude(pk__in=exclude)
        # Still honour the query's exclusions (-word).
        for word in re.findall(r"(?:^|\s)-(\S+)", query):
            candidates = candidates.exclude(
                search_vector=SearchQuery(word, search_type="plain", config=CONFIG)
            )
        candidates = _newest(candidates, FALLBACK_AT_MOST)
        compiler = candidates.query.get_compiler(connection=connection)
        vector = '"kb_article"."search_vector"'
        cases, params = [], []
        for group in groups:
            whens = []
            for weights, points in (("A", FIELD_POINTS[0]), ("B", FIELD_POINTS[1])):
                sql, found = _weighted(group, weights).as_sql(compiler, connection)
                whens.append(f"WHEN {vector} @@ {sql} THEN {points}")
                params.extend(found)
            sql, found = _any_of(group).as_sql(compiler, connection)
            whens.append(f"WHEN {vector} @@ {sql} THEN {FIELD_POINTS[2]}")
            params.extend(found)
            cases.append(f"(CASE {' '.join(whens)} ELSE 0 END)")
        score = RawSQL(
            f"({' + '.join(cases)}) / {len(groups)}.0",
            params,
            output_field=FloatField(),
        )
        scored = (
            candidates.annotate(
                score=score,
                rank=SearchRank(F("search_vector"), anyword, weights=WEIGHTS),
            )
            .filter(score__gte=MIN_FALLBACK_SCORE)
            .order_by("-score", "-rank", "-id")
            .values_list("id", "score")[:limit]
        )
        return [(pk, score, anyword) for pk, score in scored]

    @staticmethod
    def _common(terms: list[str]) -> set[str]:
        """The terms whose stem is in more than ``COMMON_TERM_DOCUMENTS``
        published articles, by the vocabulary's counts."""
        stem = STEM_SQL.format(word="u.word")
        with connection.cursor() as cursor:
            # The stems first, so the vocabulary is read by its (public, stem)
            # index rather than stemming every row.
            cursor.execute(
                f"WITH t AS (SELECT u.word, {stem} AS stem "
                "FROM unnest(%s::text[]) AS u(word)) "
                "SELECT t.word FROM t JOIN kb_searchterm v "
                "ON v.public = false AND v.stem = t.stem "
                "GROUP BY t.word HAVING sum(v.documents) > %s",
                [terms, COMMON_TERM_DOCUMENTS],
            )
            return {row[0] for row in cursor.fetchall()}

    def _hits(self, rows: list[tuple[int, float, SearchQuery]]) -> list[Hit]:
        """The articles of ``rows`` with their highlights, in the rows' order: one
        query per kind of match (at most two), only for the page shown."""
        by_query: dict[int, list[int]] = {}
        queries = {}
        for pk, _, query in rows:
            by_query.setdefault(id(query), []).append(pk)
            queries[id(query)] = query
        found: dict[int, tuple[Article, str, str]] = {}
        for key, pks in by_query.items():
            query = queries[key]
            for article in (
                Article.objects.filter(pk__in=pks)
                .select_related("owner_team", "problem")
                .annotate(
                    title_marked=SearchHeadline(
                        "title",
                        query,
                        config=CONFIG,
                        start_sel=_START,
                        stop_sel=_STOP,
                        highlight_all=True,
                    ),
                    excerpt_marked=SearchHeadline(
                        Concat(
                            "symptoms", Value("\n"), "body", output_field=TextField()
                        ),
                        query,
                        config=CONFIG,
                        start_sel=_START,
                        stop_sel=_STOP,
                        max_words=30,
                        min_words=12,
                        max_fragments=2,
                        fragment_delimiter=" … ",
                    ),
                )
            ):
                found[article.pk] = (
                    article,
                    article.title_marked,
                    article.excerpt_marked,
                )
        hits = []
        for pk, score, _ in rows:
            article, title, excerpt = found[pk]
            hits.append(Hit(article, float(score), _marked(title), _marked(excerpt)))
        return hits


def _newest(
    matching: QuerySet[Article], at_most: int = RANK_AT_MOST
) -> QuerySet[Article]:
    """At most ``at_most`` of the matching articles, the newest: ranking reads
    every candidate's vector, and when thousands have the words in their title
    or symptoms, the newest of them are the ones worth ranking."""
    # Ordered by an expression, not the column: with the primary key's order the
    # planner walks the whole table backwards when the words are rare, instead
    # of reading the matches from the GIN index and sorting those.
    newest = (
        matching.annotate(newest=F("id") + 0).order_by("-newest").values("id")[:at_most]
    )
    return Article.objects.filter(pk__in=newest)


def _in_title_or_symptoms(words: list[str]) -> SearchQuery:
    return _weighted(words, "AB")


def _weighted(words: list[str], weights: str) -> SearchQuery:
    """Any of ``words`` (phrases too) where the vector has them with one of
    ``weights`` (A title, B symptoms), in ``to_tsquery`` syntax built from the
    words' letters and digits only."""
    alternatives = []
    for word in words:
        parts = [f"{part}:{weights}" for part in re.findall(r"[^\W_]+", word)]
        if parts:
            alternatives.append(f"({' <-> '.join(parts)})")
    return SearchQuery(" | ".join(alternatives), search_type="raw", config=CONFIG)


def _any_of(words: list[str]) -> SearchQuery:
    combined = None
    for word in words:
        kind = "phrase" if " " in word or "-" in word else "plain"
        part = SearchQuery(word, search_type=kind, config=CONFIG)
        combined = part if combined is None else combined | part
    return combined


class _Plain:
    """The same steps in Python, for databases without full text search."""

    def unmatched(
        self, published: QuerySet[Article], terms: list[str], *, public: bool
    ) -> list[str]:
        unknown = []
        for term in terms:
            stem = plain_stem(term)
            found = published.filter(_contains(stem)).exists()
            if not found:
                unknown.append(term)
        return unknown

    def corrections(self, words: list[str], *, public: bool) -> dict[str, str]:
        found = {}
        for word in words:
            candidates = list(
                SearchTerm.objects.filter(
                    public=public,
                    length__gte=len(word) - 2,
                    length__lte=len(word) + 2,
                ).values_list("word", "documents")
            )
            best = _best_by_distance(word, candidates)
            if best:
                found[word] = best
        return found

    def search(
        self, published: QuerySet[Article], query: str, terms: list[str], limit: int
    ) -> tuple[list[Hit], bool]:
        excluded = [
            plain_stem(w)
            for w in words_of(" ".join(re.findall(r"(?:^|\s)-(\S+)", query)))
        ]
        groups = {
            term: [plain_stem(w) for w in [term, *SYNONYMS.get(term, ())]]
            for term in terms
        }
        any_stem = Q()
        for stems in groups.values():
            for stem in stems:
                any_stem |= _contains(stem)
        strict, loose = [], []
        for article in published.filter(any_stem).select_related(
            "owner_team", "problem"
        ):
            fields = [
                (article.title.lower(), WEIGHTS[3]),
                (article.symptoms.lower(), WEIGHTS[2]),
                (article.body.lower(), WEIGHTS[1]),
            ]
            if any(stem in text for stem in excluded for text, _ in fields):
                continue
            own = [
                sum(
                    weight * min(text.count(plain_stem(term)), 3)
                    for text, weight in fields
                )
                for term in terms
            ]
            rank = sum(own) / (len(terms) * 3)
            if all(own):
                strict.append((rank, article))
                continue
            # As on PostgreSQL: each term counts for the best field it is in.
            points = [
                max(
                    (
                        value
                        for (text, _), value in zip(fields, FIELD_POINTS, strict=True)
                        if any(stem in text for stem in stems)
                    ),
                    default=0.0,
                )
                for stems in groups.values()
            ]
            score = sum(points) / len(points)
            if score >= MIN_FALLBACK_SCORE:
                loose.append((score + rank / 10, article))
        strict.sort(key=lambda item: (-item[0], -item[1].pk))
        loose.sort(key=lambda item: (-item[0], -item[1].pk))
        fell_back = len(strict) < min(limit, FALLBACK_BELOW)
        chosen = strict + (loose if fell_back else [])
        stems = [stem for stems in groups.values() for stem in stems]
        hits = [
            Hit(
                article,
                score,
                _marked(_mark_plain(article.title, stems, whole=True)),
                _marked(_mark_plain(f"{article.symptoms}\n{article.body}", stems)),
            )
            for score, article in chosen[:limit]
        ]
        return hits, fell_back


def _contains(stem: str) -> Q:
    return (
        Q(title__icontains=stem) | Q(symptoms__icontains=stem) | Q(body__icontains=stem)
    )


def plain_stem(word: str) -> str:
    """A crude English stem, enough for substring matching."""
    for suffix in ("ing", "ed", "es", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def _mark_plain(text: str, stems: list[str], *, whole: bool = False) -> str:
    """Marks around words of ``text`` that start with a stem; unless ``whole``, a
    passage of about 30 words around the first one."""
    pieces = re.split(r"(\s+)", text)
    first = None
    for index, piece in enumerate(pieces):
        lowered = piece.lower()
        if piece.strip() and any(stem and stem in lowered for stem in stems):
            pieces[index] = f"{_START}{piece}{_STOP}"
            first = index if first is None else first
    if whole:
        return "".join(pieces)
    start = max(0, (first or 0) - 20)
    return "".join(pieces[start : start + 60]).strip()
