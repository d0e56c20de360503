//! Query strings -> AST -> normalised tree.
//!
//! Syntax: words are ANDed (or ORed with `default_or`); `AND`, `OR`, `NOT`
//! (upper case), `-word`, parentheses, `"a phrase"`, `field:word`, `word^2`
//! (boost). Precedence: NOT binds tightest, then AND / juxtaposition, then OR.

use super::reader::TextIndex;

#[derive(Clone, Debug, PartialEq)]
pub enum QueryError {
    Syntax(String),
    NotOnly,
    TooLarge(String),
    BadBoost(String),
    UnknownField(String),
}

impl QueryError {
    pub fn code(&self) -> &'static str {
        match self {
            QueryError::Syntax(_) => "ERR_RECALL_QUERY_SYNTAX",
            QueryError::NotOnly => "ERR_RECALL_NOT_ONLY_QUERY",
            QueryError::TooLarge(_) => "ERR_RECALL_QUERY_TOO_LARGE",
            QueryError::BadBoost(_) => "ERR_RECALL_BAD_BOOST",
            QueryError::UnknownField(_) => "ERR_RECALL_UNKNOWN_FIELD",
        }
    }
    pub fn message(&self) -> String {
        match self {
            QueryError::Syntax(m) => m.clone(),
            QueryError::NotOnly => {
                "the query only excludes documents (NOT without a positive term); add a term, or allow match-all for pure NOT".into()
            }
            QueryError::TooLarge(m) => m.clone(),
            QueryError::BadBoost(m) => m.clone(),
            QueryError::UnknownField(m) => m.clone(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Ast {
    Term { field: Option<String>, text: String, boost: f64, phrase: bool },
    And(Vec<Ast>),
    Or(Vec<Ast>),
    Not(Box<Ast>),
}

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Word(String),
    Phrase(String),
    LParen,
    RParen,
    And,
    Or,
    Not,
    Minus,
    Boost(String),
}

fn lex(q: &str) -> Result<Vec<Tok>, QueryError> {
    let mut out = Vec::new();
    let cs: Vec<char> = q.chars().collect();
    let mut i = 0;
    while i < cs.len() {
        let c = cs[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '(' {
            out.push(Tok::LParen);
            i += 1;
        } else if c == ')' {
            out.push(Tok::RParen);
            i += 1;
        } else if c == '"' {
            let start = i + 1;
            let mut j = start;
            while j < cs.len() && cs[j] != '"' {
                j += 1;
            }
            if j == cs.len() {
                return Err(QueryError::Syntax("unterminated quote: close the phrase with \"".into()));
            }
            out.push(Tok::Phrase(cs[start..j].iter().collect()));
            i = j + 1;
        } else if c == '^' {
            let start = i + 1;
            let mut j = start;
            while j < cs.len() && !cs[j].is_whitespace() && !matches!(cs[j], '(' | ')' | '"') {
                j += 1;
            }
            out.push(Tok::Boost(cs[start..j].iter().collect()));
            i = j;
        } else if c == '-' && i + 1 < cs.len() && !cs[i + 1].is_whitespace() {
            out.push(Tok::Minus);
            i += 1;
        } else {
            let start = i;
            let mut j = i;
            while j < cs.len() && !cs[j].is_whitespace() && !matches!(cs[j], '(' | ')' | '"' | '^') {
                j += 1;
            }
            let w: String = cs[start..j].iter().collect();
            out.push(match w.as_str() {
                "AND" => Tok::And,
                "OR" => Tok::Or,
                "NOT" => Tok::Not,
                _ => Tok::Word(w),
            });
            i = j;
        }
    }
    Ok(out)
}

struct Parser<'a> {
    toks: Vec<Tok>,
    pos: usize,
    default_or: bool,
    fields: &'a [String],
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos)
    }

    fn or_expr(&mut self, depth: usize) -> Result<Ast, QueryError> {
        if depth > 32 {
            return Err(QueryError::TooLarge("parentheses nest deeper than 32".into()));
        }
        let mut parts = vec![self.and_expr(depth)?];
        while self.peek() == Some(&Tok::Or) {
            self.pos += 1;
            parts.push(self.and_expr(depth)?);
        }
        Ok(if parts.len() == 1 { parts.pop().unwrap() } else { Ast::Or(parts) })
    }

    fn and_expr(&mut self, depth: usize) -> Result<Ast, QueryError> {
        let mut parts = vec![self.juxt(depth)?];
        while self.peek() == Some(&Tok::And) {
            self.pos += 1;
            parts.push(self.juxt(depth)?);
        }
        Ok(if parts.len() == 1 { parts.pop().unwrap() } else { Ast::And(parts) })
    }

    /// Words next to each other: the default operator.
    fn juxt(&mut self, depth: usize) -> Result<Ast, QueryError> {
        let mut parts = vec![self.unary(depth)?];
        while matches!(self.peek(), Some(Tok::Word(_) | Tok::Phrase(_) | Tok::LParen | Tok::Not | Tok::Minus)) {
            parts.push(self.unary(depth)?);
        }
        Ok(if parts.len() == 1 {
            parts.pop().unwrap()
        } else if self.default_or {
            Ast::Or(parts)
        } else {
            Ast::And(parts)
        })
    }

    fn unary(&mut self, depth: usize) -> Result<Ast, QueryError> {
        match self.peek() {
            Some(Tok::Not) | Some(Tok::Minus) => {
                self.pos += 1;
                Ok(Ast::Not(Box::new(self.unary(depth)?)))
            }
            _ => self.primary(depth),
        }
    }

    fn boost(&mut self) -> Result<f64, QueryError> {
        if let Some(Tok::Boost(s)) = self.peek() {
            let s = s.clone();
            self.pos += 1;
            let b: f64 = s.parse().map_err(|_| QueryError::BadBoost(format!("boost ^{s} is not a number")))?;
            if !(b > 0.0 && b.is_finite()) {
                return Err(QueryError::BadBoost(format!("boost ^{s} must be a positive finite number")));
            }
            return Ok(b);
        }
        Ok(1.0)
    }

    fn primary(&mut self, depth: usize) -> Result<Ast, QueryError> {
        match self.peek().cloned() {
            Some(Tok::LParen) => {
                self.pos += 1;
                let inner = self.or_expr(depth + 1)?;
                if self.peek() != Some(&Tok::RParen) {
                    return Err(QueryError::Syntax("missing ): close every ( of the query".into()));
                }
                self.pos += 1;
                Ok(inner)
            }
            Some(Tok::Word(w)) => {
                self.pos += 1;
                let boost = self.boost()?;
                let (field, text) = match w.split_once(':') {
                    Some((f, t)) if self.fields.iter().any(|x| x == f) => {
                        if t.is_empty() {
                            // `title:"a b"`
                            if let Some(Tok::Phrase(p)) = self.peek().cloned() {
                                self.pos += 1;
                                let boost = self.boost()?;
                                return Ok(Ast::Term { field: Some(f.to_string()), text: p, boost, phrase: true });
                            }
                        }
                        (Some(f.to_string()), t.to_string())
                    }
                    // `name:word` with a name that is no field is a mistake, not two words (which would
                    // quietly match nothing); times (12:30) and URLs (http://...) stay words
                    Some((f, t)) if looks_like_field(f) && !t.is_empty() && !t.starts_with('/') => {
                        return Err(QueryError::UnknownField(format!(
                            "unknown field {f} in {w}: the index has {}; quote it (\"{w}\") to search the words",
                            if self.fields.is_empty() {
                                "no named fields".to_string()
                            } else {
                                format!("fields {}", self.fields.join(", "))
                            }
                        )));
                    }
                    _ => (None, w),
                };
                Ok(Ast::Term { field, text, boost, phrase: false })
            }
            Some(Tok::Phrase(p)) => {
                self.pos += 1;
                let boost = self.boost()?;
                Ok(Ast::Term { field: None, text: p, boost, phrase: true })
            }
            Some(t) => Err(QueryError::Syntax(format!("unexpected {} at token {}", tok_name(&t), self.pos + 1))),
            None => Err(QueryError::Syntax("the query ends where a term was expected".into())),
        }
    }
}

fn tok_name(t: &Tok) -> String {
    match t {
        Tok::RParen => ")".into(),
        Tok::And => "AND".into(),
        Tok::Or => "OR".into(),
        Tok::Boost(b) => format!("^{b}"),
        _ => format!("{t:?}"),
    }
}

/// Parse a query string; `None` for an empty query.
fn looks_like_field(f: &str) -> bool {
    let mut c = f.chars();
    c.next().is_some_and(|x| x.is_ascii_alphabetic() || x == '_') && c.all(|x| x.is_ascii_alphanumeric() || x == '_' || x == '-')
}

pub fn parse(q: &str, default_or: bool, fields: &[String]) -> Result<Option<Ast>, QueryError> {
    let toks = lex(q)?;
    if toks.is_empty() {
        return Ok(None);
    }
    let mut p = Parser { toks, pos: 0, default_or, fields };
    let ast = p.or_expr(0)?;
    if p.pos != p.toks.len() {
        return Err(QueryError::Syntax(format!("unexpected {} at token {}", tok_name(&p.toks[p.pos]), p.pos + 1)));
    }
    Ok(Some(ast))
}

/// The tree after analysis, flattening and de-duplication (before term lookup).
#[derive(Clone, Debug, PartialEq)]
pub enum Norm {
    Term {
        key: Vec<u8>,
        boost: f64,
    },
    /// A quoted two-token phrase: served by an adjacent pair list when the index has one.
    Phrase {
        a: Vec<u8>,
        b: Vec<u8>,
        boost: f64,
    },
    And(Vec<Norm>),
    Or(Vec<Norm>),
    Not(Box<Norm>),
}

pub const MAX_LEAVES: usize = 64;
pub const MAX_DEPTH: usize = 8;

fn expand(a: &Ast, idx: &TextIndex, pairs: bool) -> Result<Option<Norm>, QueryError> {
    Ok(match a {
        Ast::Term { field, text, boost, phrase } => {
            let fields: Vec<usize> = match field {
                Some(f) => vec![idx.fields.iter().position(|x| &x.name == f).expect("parser checked the field")],
                None => (0..idx.fields.len()).collect(),
            };
            let toks = idx.analyzer.token_strings(text);
            let per_field = |f: usize, t: &str| -> Vec<u8> {
                let mut k = vec![f as u8];
                k.extend_from_slice(t.as_bytes());
                k
            };
            if *phrase && pairs && toks.len() == 2 {
                let alts: Vec<Norm> = fields
                    .iter()
                    .map(|&f| Norm::Phrase { a: per_field(f, &toks[0]), b: per_field(f, &toks[1]), boost: boost * idx.fields[f].weight })
                    .collect();
                return Ok(Some(if alts.len() == 1 { alts.into_iter().next().unwrap() } else { Norm::Or(alts) }));
            }
            let mut ands = Vec::new();
            for t in &toks {
                let alts: Vec<Norm> =
                    fields.iter().map(|&f| Norm::Term { key: per_field(f, t), boost: boost * idx.fields[f].weight }).collect();
                ands.push(if alts.len() == 1 { alts.into_iter().next().unwrap() } else { Norm::Or(alts) });
            }
            match ands.len() {
                0 => None,
                1 => ands.pop(),
                _ => Some(Norm::And(ands)),
            }
        }
        Ast::Not(c) => expand(c, idx, pairs)?.map(|c| Norm::Not(Box::new(c))),
        Ast::And(cs) | Ast::Or(cs) => {
            let mut kids = Vec::new();
            for c in cs {
                if let Some(n) = expand(c, idx, pairs)? {
                    kids.push(n);
                }
            }
            if kids.is_empty() {
                None
            } else if matches!(a, Ast::And(_)) {
                Some(Norm::And(kids))
            } else {
                Some(Norm::Or(kids))
            }
        }
    })
}

/// Flatten same-kind nesting, `Not(Not(x))` -> `x` inside And, de-duplicate sibling terms (max boost).
fn simplify(n: Norm) -> Result<Norm, QueryError> {
    match n {
        Norm::And(kids) => {
            let mut out: Vec<Norm> = Vec::new();
            for k in kids {
                match simplify(k)? {
                    Norm::And(g) => out.extend(g),
                    Norm::Not(inner) => match *inner {
                        Norm::Not(x) => match *x {
                            Norm::And(g) => out.extend(g),
                            x => out.push(x),
                        },
                        x => out.push(Norm::Not(Box::new(x))),
                    },
                    x => out.push(x),
                }
            }
            let out = dedup(out);
            Ok(if out.len() == 1 && !matches!(out[0], Norm::Not(_)) { out.into_iter().next().unwrap() } else { Norm::And(out) })
        }
        Norm::Or(kids) => {
            let mut out: Vec<Norm> = Vec::new();
            for k in kids {
                match simplify(k)? {
                    Norm::Or(g) => out.extend(g),
                    Norm::Not(_) => {
                        return Err(QueryError::Syntax(
                            "NOT only excludes from an AND: write `a AND NOT b` (or `a -b`), not `a OR NOT b`".into(),
                        ));
                    }
                    x => out.push(x),
                }
            }
            let out = dedup(out);
            Ok(if out.len() == 1 { out.into_iter().next().unwrap() } else { Norm::Or(out) })
        }
        Norm::Not(c) => Ok(Norm::Not(Box::new(simplify(*c)?))),
        x => Ok(x),
    }
}

/// Drop later duplicates of a sibling term (keeping the largest boost at the first position).
fn dedup(v: Vec<Norm>) -> Vec<Norm> {
    let mut out: Vec<Norm> = Vec::with_capacity(v.len());
    for n in v {
        let dup = out.iter_mut().find(|o| match (&**o, &n) {
            (Norm::Term { key: a, .. }, Norm::Term { key: b, .. }) => a == b,
            (Norm::Not(a), Norm::Not(b)) => matches!((&**a, &**b), (Norm::Term { key: x, .. }, Norm::Term { key: y, .. }) if x == y),
            _ => false,
        });
        match dup {
            Some(Norm::Term { boost: ob, .. }) => {
                if let Norm::Term { boost, .. } = n {
                    *ob = ob.max(boost);
                }
            }
            Some(_) => {}
            None => out.push(n),
        }
    }
    out
}

fn measure(n: &Norm) -> (usize, usize) {
    match n {
        Norm::Term { .. } => (1, 1),
        Norm::Phrase { .. } => (2, 1),
        Norm::Not(c) => {
            let (l, d) = measure(c);
            (l, d + 1)
        }
        Norm::And(k) | Norm::Or(k) => k.iter().map(measure).fold((0, 0), |(l, d), (l2, d2)| (l + l2, d.max(d2 + 1))),
    }
}

/// The most common query, ASCII words (letters and digits) joined by spaces, all by `AND`, all by
/// `OR` or all by juxtaposition: the tree `expand` would give, made without lexing, parsing or
/// running the analyzer (whose tokens of such a word are the word in lower case), and with one
/// field already simplified (true). None for any other query (it takes the general path).
fn plain_words(q: &str, default_or: bool, idx: &TextIndex) -> Option<(Norm, bool)> {
    let toks: Vec<&[u8]> = q.as_bytes().split(|&b| b == b' ').filter(|w| !w.is_empty()).collect();
    let is_word = |w: &[u8]| {
        w.iter().all(|b| b.is_ascii_alphanumeric()) && w.len() <= idx.analyzer.max_token_bytes && !matches!(w, b"AND" | b"OR" | b"NOT")
    };
    // `w OP w OP w ...` with one operator throughout, or words alone
    let op = match toks.get(1).copied() {
        Some(o @ (b"AND" | b"OR")) => Some(o == b"AND"),
        _ => None,
    };
    if op.is_some() && (toks.len().is_multiple_of(2) || toks.iter().skip(1).step_by(2).any(|&o| o != toks[1])) {
        return None;
    }
    let words = toks.iter().step_by(if op.is_some() { 2 } else { 1 });
    if toks.is_empty() || !words.clone().all(|w| is_word(w)) {
        return None;
    }
    let and = op.unwrap_or(!default_or);
    let key = |f: usize, w: &[u8]| {
        let mut key = Vec::with_capacity(1 + w.len());
        key.push(f as u8);
        key.extend(w.iter().map(|b| b.to_ascii_lowercase()));
        key
    };
    let nf = idx.fields.len();
    if nf == 1 && toks.len() <= MAX_LEAVES {
        // one field: the simplified tree straight away (siblings de-duplicated, a lone one unwrapped)
        let boost = idx.fields[0].weight;
        let mut kids: Vec<Norm> = Vec::with_capacity(toks.len());
        for w in words {
            let k = key(0, w);
            if !kids.iter().any(|n| matches!(n, Norm::Term { key, .. } if *key == k)) {
                kids.push(Norm::Term { key: k, boost });
            }
        }
        let n = match kids.len() {
            1 => kids.pop().unwrap(),
            _ if and => Norm::And(kids),
            _ => Norm::Or(kids),
        };
        return Some((n, true));
    }
    let mut kids: Vec<Norm> = words
        .map(|w| {
            let mut alts: Vec<Norm> = (0..nf).map(|f| Norm::Term { key: key(f, w), boost: idx.fields[f].weight }).collect();
            if alts.len() == 1 { alts.pop().unwrap() } else { Norm::Or(alts) }
        })
        .collect();
    let n = match kids.len() {
        1 => kids.pop().unwrap(),
        _ if and => Norm::And(kids),
        _ => Norm::Or(kids),
    };
    Some((n, false))
}

/// Parse, analyse, simplify and check limits. `Ok(None)`: nothing left (empty result, no error).
/// `adjacent_pairs`: two-word phrases become `Phrase` nodes (the index has adjacent pair lists);
/// otherwise a phrase is the And of its words.
pub fn normalize(q: &str, default_or: bool, adjacent_pairs: bool, idx: &TextIndex) -> Result<Option<Norm>, QueryError> {
    match plain_words(q, default_or, idx) {
        Some((n, true)) => Ok(Some(n)),
        Some((n, false)) => finish(n),
        None => normalize_general(q, default_or, adjacent_pairs, idx),
    }
}

/// `normalize` without the plain-word fast path.
pub(crate) fn normalize_general(q: &str, default_or: bool, adjacent_pairs: bool, idx: &TextIndex) -> Result<Option<Norm>, QueryError> {
    let names: Vec<String> = idx.fields.iter().map(|f| f.name.clone()).collect();
    let Some(ast) = parse(q, default_or, &names)? else { return Ok(None) };
    let Some(n) = expand(&ast, idx, adjacent_pairs)? else { return Ok(None) };
    finish(n)
}

/// Simplify and check the limits.
fn finish(n: Norm) -> Result<Option<Norm>, QueryError> {
    let n = simplify(n)?;
    let (leaves, depth) = measure(&n);
    if leaves > MAX_LEAVES {
        return Err(QueryError::TooLarge(format!("{leaves} terms after analysis; at most {MAX_LEAVES}")));
    }
    if depth > MAX_DEPTH {
        return Err(QueryError::TooLarge(format!("nesting depth {depth} after analysis; at most {MAX_DEPTH}")));
    }
    Ok(Some(n))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> Ast {
        parse(q, false, &["title".to_string()]).unwrap().unwrap()
    }
    fn t(s: &str) -> Ast {
        Ast::Term { field: None, text: s.into(), boost: 1.0, phrase: false }
    }

    #[test]
    fn parses_the_operators() {
        assert_eq!(p("a b"), Ast::And(vec![t("a"), t("b")]));
        assert_eq!(p("a OR b c"), Ast::Or(vec![t("a"), Ast::And(vec![t("b"), t("c")])]));
        assert_eq!(p("a -b"), Ast::And(vec![t("a"), Ast::Not(Box::new(t("b")))]));
        assert_eq!(p("(a OR b) AND NOT c"), Ast::And(vec![Ast::Or(vec![t("a"), t("b")]), Ast::Not(Box::new(t("c")))]));
        assert_eq!(p("title:x^2"), Ast::Term { field: Some("title".into()), text: "x".into(), boost: 2.0, phrase: false });
        assert!(matches!(parse("other:x", false, &["title".to_string()]), Err(QueryError::UnknownField(_))));
        assert_eq!(p("12:30"), t("12:30"));
        assert_eq!(p("http://x.org"), t("http://x.org"));
        assert_eq!(p("\"other:x\""), Ast::Term { field: None, text: "other:x".into(), boost: 1.0, phrase: true });
        assert_eq!(p("\"a b\""), Ast::Term { field: None, text: "a b".into(), boost: 1.0, phrase: true });
        assert_eq!(p("e-mail"), t("e-mail"));
        assert_eq!(parse("a b", true, &[]).unwrap().unwrap(), Ast::Or(vec![t("a"), t("b")]));
        assert_eq!(parse("   ", false, &[]).unwrap(), None);
    }

    #[test]
    fn rejects_bad_syntax_and_boosts() {
        assert!(matches!(parse("(a", false, &[]), Err(QueryError::Syntax(_))));
        assert!(matches!(parse("a)", false, &[]), Err(QueryError::Syntax(_))));
        assert!(matches!(parse("\"a", false, &[]), Err(QueryError::Syntax(_))));
        assert!(matches!(parse("a AND", false, &[]), Err(QueryError::Syntax(_))));
        for b in ["0", "-1", "nan", "inf", "x"] {
            assert!(matches!(parse(&format!("a^{b}"), false, &[]), Err(QueryError::BadBoost(_))), "{b}");
        }
    }
}
