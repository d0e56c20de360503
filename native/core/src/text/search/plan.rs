//! Planning: the normalised query resolved against the dictionary (unknown terms dropped or
//! emptying their conjunction), phrases and conjunctions mapped to pair lists where the index
//! has them.

use super::SearchParams;
use crate::text::PairKind;
use crate::text::dict::TermInfo;
use crate::text::format::PAIR_MAX_FRACTION;
use crate::text::pair_lists::PairInfo;
use crate::text::query::{Norm, QueryError, normalize};
use crate::text::reader::TextIndex;

/// Resolved plan (terms looked up), before cursors exist.
pub(super) enum Plan {
    Term(TermInfo, f64),
    Pair(PairInfo, TermInfo, TermInfo, f64, f64),
    And(Vec<Plan>, Vec<Plan>),
    Or(Vec<Plan>),
    All,
}

enum Resolved {
    /// Matches nothing (an unknown term in an And, or an empty Or).
    Empty,
    /// An unknown term (dropped from Or / Not, empties an And).
    Unknown,
    P(Plan),
}

struct Resolver<'a> {
    idx: &'a TextIndex,
    p: &'a SearchParams,
    pairs_used: u32,
}

impl Resolver<'_> {
    fn resolve(&mut self, n: &Norm, top: bool) -> Result<Resolved, QueryError> {
        Ok(match n {
            Norm::Term { key, boost } => match self.idx.lookup(key) {
                Some(t) => Resolved::P(Plan::Term(t, *boost)),
                None => Resolved::Unknown,
            },
            Norm::Phrase { a, b, boost } => {
                let (Some(ta), Some(tb)) = (self.idx.lookup(a), self.idx.lookup(b)) else { return Ok(Resolved::Unknown) };
                if self.p.use_pairs
                    && self.idx.pair_kind == PairKind::Adjacent
                    && let Some(pi) = self.idx.lookup_pair(ta.ord, tb.ord)
                {
                    self.pairs_used += 1;
                    return Ok(Resolved::P(Plan::Pair(pi, ta, tb, *boost, *boost)));
                }
                if ta.ord == tb.ord {
                    Resolved::P(Plan::Term(ta, *boost))
                } else {
                    Resolved::P(Plan::And(vec![Plan::Term(ta, *boost), Plan::Term(tb, *boost)], vec![]))
                }
            }
            Norm::Not(_) if top => return self.resolve(&Norm::And(vec![n.clone()]), false),
            Norm::Not(_) => unreachable!("Not only appears inside And"),
            Norm::Or(kids) => {
                let mut out = Vec::new();
                for k in kids {
                    if let Resolved::P(p) = self.resolve(k, false)? {
                        out.push(p);
                    }
                }
                match out.len() {
                    0 => Resolved::Empty,
                    1 => Resolved::P(out.pop().unwrap()),
                    _ => Resolved::P(Plan::Or(out)),
                }
            }
            Norm::And(kids) => {
                let (mut pos, mut neg) = (Vec::new(), Vec::new());
                let mut empty = false;
                for k in kids {
                    if let Norm::Not(inner) = k {
                        if let Resolved::P(p) = self.resolve(inner, false)? {
                            neg.push(p);
                        }
                        continue;
                    }
                    match self.resolve(k, false)? {
                        Resolved::P(p) => pos.push(p),
                        _ => empty = true,
                    }
                }
                if pos.is_empty() && !empty {
                    if !self.p.match_all_pure_not {
                        return Err(QueryError::NotOnly);
                    }
                    pos.push(Plan::All);
                }
                if empty {
                    return Ok(Resolved::Empty);
                }
                self.plan_pairs(&mut pos);
                if pos.len() == 1 && neg.is_empty() { Resolved::P(pos.pop().unwrap()) } else { Resolved::P(Plan::And(pos, neg)) }
            }
        })
    }

    /// Greedy cover of an And's positive terms by co-occurrence pair lists.
    fn plan_pairs(&mut self, pos: &mut Vec<Plan>) {
        if !self.p.use_pairs || self.idx.pair_kind != PairKind::Cooc {
            return;
        }
        let terms: Vec<usize> = (0..pos.len()).filter(|&i| matches!(pos[i], Plan::Term(..))).collect();
        if terms.len() < 2 || terms.len() > 16 {
            return;
        }
        let info = |i: usize| match &pos[i] {
            Plan::Term(t, b) => (*t, *b),
            _ => unreachable!(),
        };
        let mut cands: Vec<(u32, usize, usize, PairInfo)> = Vec::new();
        for (x, &i) in terms.iter().enumerate() {
            for &j in &terms[x + 1..] {
                let (a, b) = (info(i).0, info(j).0);
                let (lo, hi) = if a.ord < b.ord { (i, j) } else { (j, i) };
                if let Some(pi) = self.idx.lookup_pair(info(lo).0.ord, info(hi).0.ord) {
                    // the plain rule skips pairs with df_ab >= 0.5 min(df); one sequential list beats a
                    // leapfrog of two long ones well beyond that here, so only near-equal lists are skipped
                    if (pi.df as f64) < PAIR_MAX_FRACTION * a.df.min(b.df) as f64 {
                        cands.push((pi.df, lo, hi, pi));
                    }
                }
            }
        }
        cands.sort_by_key(|c| (c.0, c.1.min(c.2), c.1.max(c.2)));
        let mut covered = vec![false; pos.len()];
        let mut pairs = Vec::new();
        for (_, i, j, pi) in cands {
            if covered[i] || covered[j] {
                continue;
            }
            covered[i] = true;
            covered[j] = true;
            let ((ta, ba), (tb, bb)) = (info(i), info(j));
            pairs.push(Plan::Pair(pi, ta, tb, ba, bb));
        }
        if pairs.is_empty() {
            return;
        }
        self.pairs_used += pairs.len() as u32;
        let old = std::mem::take(pos);
        *pos = old.into_iter().enumerate().filter(|(i, _)| !covered[*i]).map(|(_, p)| p).collect();
        pos.extend(pairs);
    }
}

/// The plan of a query and the pair lists it uses; None when it matches nothing.
pub(super) fn resolve_query(idx: &TextIndex, q: &str, p: &SearchParams) -> Result<Option<(Plan, u32)>, QueryError> {
    let Some(norm) = normalize(q, p.default_or, p.use_pairs && idx.pair_kind == PairKind::Adjacent, idx)? else {
        return Ok(None);
    };
    let mut r = Resolver { idx, p, pairs_used: 0 };
    Ok(match r.resolve(&norm, true)? {
        Resolved::P(plan) => Some((plan, r.pairs_used)),
        _ => None,
    })
}
