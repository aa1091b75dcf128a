import { compactLowercase } from './compact-text.js';

// `ge`: Meta accepts only `f` and `m`.
// https://developers.facebook.com/documentation/ads-commerce/conversions-api/parameters/customer-information-parameters [CIP]
// Forms and CRMs store gender as words, titles or single letters in many languages; the common
// ones are mapped. Ambiguous letters are left out on purpose: `v` is "vrouw" (female) in Dutch but
// "varón" (male) in Spanish.

// Grouped by language so the lists stay reviewable; only the words themselves are used.
const FEMALE: Readonly<Record<string, readonly string[]>> = {
  en: ['f', 'female', 'woman', 'women', 'girl', 'feminine', 'fem', 'lady', 'she', 'sheher'],
  enTitles: ['mrs', 'ms', 'miss'],
  de: ['w', 'weiblich', 'frau'],
  fr: ['femme', 'féminin', 'féminine', 'madame', 'mme'],
  es: ['mujer', 'femenino', 'femenina'],
  it: ['donna', 'femmina', 'femminile'],
  pt: ['mulher', 'feminino', 'feminina'],
  nl: ['vrouw', 'vrouwelijk'],
  pl: ['kobieta'],
  nordic: ['kvinna', 'kvinnlig', 'kvinde', 'kvindelig', 'kvinne', 'kvinnelig'],
  tr: ['kadın', 'kadin'],
  ru: ['ж', 'женский', 'женщина'],
  uk: ['жінка', 'жіночий'],
  zhJa: ['女', '女性'],
  ko: ['여', '여성', '여자'],
  ar: ['أنثى', 'انثى'],
  hi: ['महिला'],
};

const MALE: Readonly<Record<string, readonly string[]>> = {
  en: ['m', 'male', 'man', 'men', 'boy', 'masculine', 'masc', 'he', 'hehim'],
  enTitles: ['mr'],
  de: ['männlich', 'mann', 'herr'],
  fr: ['h', 'homme', 'masculin', 'monsieur'],
  es: ['hombre', 'masculino', 'varón', 'varon'],
  it: ['uomo', 'maschio', 'maschile'],
  pt: ['homem'],
  nl: ['mannelijk'],
  pl: ['mężczyzna'],
  nordic: ['manlig', 'mand', 'mandlig', 'mannlig'],
  tr: ['erkek'],
  ru: ['м', 'мужской', 'мужчина'],
  uk: ['чоловік', 'чоловічий'],
  zhJa: ['男', '男性'],
  ko: ['남', '남성', '남자'],
  ar: ['ذكر'],
  hi: ['पुरुष'],
};

let genders: Map<string, 'f' | 'm'> | undefined;

function genderTable(): Map<string, 'f' | 'm'> {
  if (genders === undefined) {
    genders = new Map();
    for (const words of Object.values(FEMALE)) {
      for (const word of words) genders.set(compactLowercase(word), 'f');
    }
    for (const words of Object.values(MALE)) {
      for (const word of words) genders.set(compactLowercase(word), 'm');
    }
  }
  return genders;
}

/**
 * Normalizes a gender to Meta's `f` or `m` from common words, titles and letters in several
 * languages. Returns `undefined` for anything else (Meta has no other value).
 * @example normalizeGender('Female') // 'f'
 * @example normalizeGender('Herr') // 'm'
 */
export function normalizeGender(value: string): 'f' | 'm' | undefined {
  const key = compactLowercase(value);
  if (key === 'f' || key === 'm') return key;
  return genderTable().get(key);
}
