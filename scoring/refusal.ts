// Built-in refusal / failure-to-answer detector, run on every interaction with no model call:
// a few regular expressions over the normalised opening of the answer. It looks mainly at the
// opening because refusals come first ("I'm sorry, but I can't…"), while answers that merely
// mention "cannot" later ("the tenant cannot sublet…") are the main source of false positives.
// Quoted speech and code are removed first: a translation of "I can't come tomorrow" or
// `raise ValueError("cannot divide")` is not the assistant refusing.

import { refusalScorerVersion } from './scorer-version.ts'

export interface RefusalResult {
  refusal: boolean
  /** Id of the rule that matched (e.g. `cannot_help`); absent when refusal is false. */
  pattern?: string
}

/** Characters of the cleaned answer that are examined. */
export const OPENING_CHARS = 300
/** Bump when the normalisation code (not the rule list) changes, so the version changes too. */
export const REFUSAL_NORMALISER_REVISION = 1

// The subject "i" plus negated ability / willingness. Contractions with or without the
// apostrophe ("i'm", "im", "cant"): models and chat front-ends both drop it.
const I_NEGATED =
  "\\bi(?: (?:can'?t|cannot|can not|won'?t(?: be able to)?|will not(?: be able to)?|must decline to|(?:do not|don'?t) have the ability to)|(?:'?m| am) (?:not |un)able to|(?:'?m| am) not (?:allowed|permitted|authori[sz]ed|in a position|going) to|(?:'?m| am) afraid i can'?t)"
// Things an assistant does for a user. Deliberately not "reproduce", "stress", "believe":
// "I'm unable to reproduce the bug" is a debugging answer, not a refusal. Observation verbs
// are narrowed by their object: "I can't see images" refuses, "I can't see any difference"
// answers; "I can't tell you" refuses, "I can't tell from the log" is a hedge.
const ASSIST_VERB =
  '(?:help|assist|provide|comply|fulfil+|answer|respond|share|give|offer|create|generate|write|complete|support|continue|process|access|open|browse|look|check|verify|determine|extract|say|discuss|disclose|reveal|recommend|make|send|translate|engage|participate|change|modify|cancel|book|update|delete|reset|refund|approve|tell you|see (?:images?|pictures?|photos?|screenshots?|attachments?|files?|links?|videos?|your |the (?:image|picture|photo|screenshot|attachment|file|link|video))|do (?:that|this|it|so)|be of (?:help|assistance))'
const ADVERB = '(?:(?:really|currently|directly|personally|actually|legally|safely|in good conscience) )?'

interface Rule {
  id: string
  re: RegExp
  /**
   * "I can't X, but <answer>" is a caveat, not a refusal ("I can't say for certain, but the
   * likely cause is…"); "I can't X, but I can / you can …" offers an alternative and stays a
   * refusal. Checked for rules where the negated verb comes first.
   */
  hedgeable?: boolean
}

/** Order matters only for which id is reported; any match means refusal. */
export const REFUSAL_RULES: readonly Rule[] = [
  { id: 'cannot_help', re: new RegExp(`${I_NEGATED} ${ADVERB}${ASSIST_VERB}\\b`), hedgeable: true },
  { id: 'cannot_short', re: /^(?:sorry,? |no,? |nope,? )?i (?:can'?t|cannot|won'?t)[.!]?$/ },
  {
    id: 'cannot_help_no_subject',
    re: /\b(?:sorry|nope|no|unfortunately|afraid)\W+(?:i )?(?:can'?t|cannot) (?:help|assist|do)\b/,
    hedgeable: true,
  },
  {
    id: 'sorry_but',
    re: /\b(?:sorry|apologi[sz]e|apologies|afraid)\b[^.!?]{0,40}\b(?:but|however)\b[^.!?]{0,30}\b(?:can'?t|cannot|unable|not able|won'?t|not allowed|not permitted|not possible)\b/,
  },
  {
    id: 'ai_disclaimer',
    re: /\bas an? (?:ai|artificial intelligence|(?:ai |large )?language model|ai assistant|ai model|assistant)\b[^.!?]{0,80}\bi(?:'m| am)?\b[^.!?]{0,25}\b(?:can'?t|cannot|don'?t|do not|(?:am|'m) not|unable|not able|won'?t)\b/,
  },
  {
    id: 'no_access',
    re: /\bi\b[^.!?]{0,20}\b(?:don'?t|do not) have (?:(?:direct |real-time )?access to|the ability to|any way to|enough (?:information|context|details|data)|that information|(?:any )?(?:information|details|data|knowledge) (?:on|about|regarding)|real-time)\b/,
  },
  {
    id: 'no_access_have_no',
    re: /\bi have no (?:access to|way (?:to|of knowing)|information (?:on|about))\b/,
  },
  {
    id: 'dont_know',
    re: /\bi (?:don'?t|do not) know(?: the answer(?: to (?:that|this|your question)(?: question)?)?| that| about that)?\s*(?:[.!,;]|$)/,
  },
  { id: 'not_sure_only', re: /^(?:i'?m|i am) not sure[.!]?$/ },
  {
    id: 'not_found',
    re: /\bi (?:couldn'?t|could not|can'?t|cannot|was unable to|wasn'?t able to) find (?:any |the )?(?:information|anything|that|details|a record|records|the answer|mention)\b/,
  },
  {
    id: 'context_lacks_answer',
    re: /\b(?:the|this|your) (?:provided |given |available )?(?:context|documents?|sources?|text|knowledge base|information)(?: (?:you )?(?:provided|shared|gave))? (?:does not|doesn'?t|do not|don'?t) (?:contain|include|mention|say|specify|provide|cover)\b|\b(?:the )?answer (?:isn'?t|is not) (?:in|covered (?:in|by)|mentioned in|included in) the\b/,
  },
  {
    id: 'policy',
    re: /\b(?:violates?|against|breaks?|breach(?:es)?)\b (?:our|my|the|openai'?s|meta'?s) (?:\w+ )?(?:polic(?:y|ies)|guidelines|terms(?: of (?:use|service))?|rules|programming|principles)\b|\b(?:that|this) (?:information|data) (?:is (?:confidential|private|restricted)|(?:can'?t|cannot|can not) be (?:shared|disclosed|provided))\b/,
  },
  {
    id: 'not_appropriate',
    re: /\b(?:(?:would|it'?s|it is|is) not|wouldn'?t be|isn'?t) (?:be )?appropriate for me\b|\bi'?m not comfortable\b|\bi am not comfortable\b/,
  },
  {
    id: 'decline',
    re: /\bi(?: must| have to| need to| will have to|'ll have to) (?:respectfully |politely )?(?:decline|pass)\b|\bi refuse to\b|\bi(?:'d| would) (?:rather|prefer) not\b|\bi'?m (?:programmed|designed|instructed) (?:to avoid|not to)\b|\bi'?m going to have to (?:say no|decline|pass)\b|\bi (?:don'?t|do not) think i (?:should|can|could) (?:help|assist|answer|do|provide|write)\b/,
  },
  {
    id: 'out_of_scope',
    re: /\bi(?:'m| am)? (?:can )?only (?:able|trained|designed|here|allowed|permitted) to (?:help|assist|answer|discuss|respond)\b|\bi(?: can)? only (?:help|assist|answer|discuss|respond)\b|\bnot possible for me\b|\b(?:outside|beyond) (?:what i|the scope of what i|my)\b|\b(?:not|isn'?t|is not) something i(?:'m| am)? (?:can|am able|'m able|able|allowed|permitted)\b/,
  },
  {
    id: 'error_output',
    re: /^(?:error|failed)\b\W+(?:unable|failed|could not|cannot|no response)\b|\ban? error (?:occurred )?(?:while )?processing (?:your|the) request\b|\b(?:your|the) request could not be (?:completed|processed)\b|\bi'?m having trouble (?:accessing|retrieving|processing|connecting|loading)\b/,
  },
  {
    id: 'did_not_understand',
    re: /\bi (?:didn'?t|did not|don'?t|do not) (?:understand|follow) (?:your|the|what you)\b/,
  },
]

/**
 * Idioms where a negated modal is praise or emphasis, removed before matching:
 * "I can't recommend it enough", "I cannot stress enough", "I can't believe…".
 */
const IDIOMS =
  /\b(?:can'?t|cannot|could ?n'?t|couldn'?t) (?:(?:recommend|stress|emphasi[sz]e|thank|praise) (?:[\w'-]+ ){0,4}enough|agree more|believe|wait|go wrong|make it\b|help (?:but|it|\w+ing)\b)/g

/** Same ids and rules in a stable text form: the input of the detector's version hash. */
export function refusalRuleSpec(): string {
  return JSON.stringify({
    revision: REFUSAL_NORMALISER_REVISION,
    openingChars: OPENING_CHARS,
    idioms: IDIOMS.source,
    rules: REFUSAL_RULES.map((rule) => [rule.id, rule.re.source, rule.re.flags]),
  })
}

/** `refusal@<12 hex>`; changes whenever a rule, the idiom list or the window changes. */
export const REFUSAL_SCORER_VERSION: string = refusalScorerVersion(refusalRuleSpec())

/**
 * Lower-cases, unifies apostrophes/quotes, removes code, quoted speech and markdown noise,
 * collapses whitespace. Only the first few KB are processed: it runs on every interaction.
 */
export function normaliseForRefusal(output: string): string {
  let text = output.slice(0, 4000)
  text = text.replace(/[\u2018\u2019\u02bc\u00b4]/g, "'")
  text = text.replace(/[\u201c\u201d\u201e\u00ab\u00bb]/g, '"')
  text = text.replace(/```[\s\S]*?(?:```|$)/g, ' ') // fenced code (an unclosed fence runs to the end)
  text = text.replace(/`[^`\n]*`/g, ' ') // inline code
  text = text.toLowerCase()
  text = text.replace(/"[^"\n]{0,300}"/g, ' "" ') // quoted speech / examples
  // Single-quoted spans: the opening quote follows a space, the closing one precedes a
  // space or punctuation, so apostrophes inside words ("can't", "customers'") survive.
  text = text.replace(/(^|[\s(:])'[^'\n]{1,120}?'(?=[\s.,;:!?)]|$)/g, "$1'' ")
  text = text.replace(/[*_#>~|]+/g, ' ')
  text = text.replace(/\s+/g, ' ').trim()
  return text.replace(IDIOMS, ' ')
}

export function detectRefusal(output: string | null | undefined): RefusalResult {
  // No letter or digit at all: nothing was answered (empty, whitespace, "...").
  if (output == null || !/[\p{L}\p{N}]/u.test(output)) return { refusal: true, pattern: 'empty' }
  const opening = normaliseForRefusal(output).slice(0, OPENING_CHARS)
  for (const rule of REFUSAL_RULES) {
    const match = rule.re.exec(opening)
    if (!match) continue
    if (rule.hedgeable && isHedge(opening.slice(match.index + match[0].length))) continue
    return { refusal: true, pattern: rule.id }
  }
  return { refusal: false }
}

// After ", but": an offered alternative keeps it a refusal, anything else is taken as the answer.
const ALTERNATIVE =
  /^(?:i (?:can|could|will|would|am happy|am glad)|i'(?:d|ll|m happy|m glad)|you (?:can|could|may|might|will|should|would)|you'(?:ll|d)|please|feel free|if you|here'?s what i can)\b/

/** True when the rest of the matched sentence turns the negation into a caveat. */
function isHedge(rest: string): boolean {
  const sentence = /^[^.!?;]*/.exec(rest)![0]
  const but = /,? but (.*)$/.exec(sentence)
  return but !== null && !ALTERNATIVE.test(but[1]!.trim())
}
