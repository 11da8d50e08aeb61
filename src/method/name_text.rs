//! What text can be a neighborhood's name (method step 8): never a bare
//! number or a generic word (`101동`, `아파트`, `Building`, `관리사무소`),
//! and for numbered buildings of one complex (`잠실엘스 101동`) the complex
//! name. Also the compass words that tell apart two neighborhoods of one
//! name, in the name's language.

/// Words that name a kind of thing, not a place, in Korean and English
/// (compared case-insensitively, spaces ignored).
const GENERIC: [&str; 32] = [
    "아파트",
    "빌딩",
    "건물",
    "주택",
    "상가",
    "단독주택",
    "다세대주택",
    "연립주택",
    "오피스텔",
    "창고",
    "공장",
    "교회",
    "학교",
    "building",
    "house",
    "houses",
    "garage",
    "garages",
    "shed",
    "barn",
    "apartment",
    "apartments",
    "residential",
    "commercial",
    "industrial",
    "church",
    "school",
    "hut",
    "farm",
    "stall",
    "roof",
    "yes",
];

/// A complex's facilities: a name ending so is a building of a place, not
/// the place (`잠실엘스 관리사무소`).
const FACILITY_SUFFIXES: [&str; 12] = [
    "관리사무소",
    "관리동",
    "경비실",
    "기계실",
    "전기실",
    "주차장",
    "분리수거장",
    "경로당",
    "노인정",
    "어린이집",
    "놀이터",
    "부속동",
];

/// A name fit for a neighborhood: trimmed, with a complex's building number
/// taken off (`잠실엘스 101동` → `잠실엘스`, `Residenz B` stays); `None`
/// for a bare number, a generic word or a facility.
///
/// ```
/// use dongne::method::name_text::place_name;
/// assert_eq!(place_name("잠실엘스 101동").as_deref(), Some("잠실엘스"));
/// assert_eq!(place_name("잠실아르누보팰리스아파트").as_deref(), Some("잠실아르누보팰리스아파트"));
/// assert_eq!(place_name("202동"), None);
/// assert_eq!(place_name("아파트"), None);
/// assert_eq!(place_name("잠실엘스 관리사무소"), None);
/// assert_eq!(place_name("Triesenberg").as_deref(), Some("Triesenberg"));
/// ```
pub fn place_name(raw: &str) -> Option<String> {
    let name = without_building_number(raw.trim());
    let compact: String = name
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    if compact.is_empty() || is_number_like(&compact) {
        return None;
    }
    if GENERIC.contains(&compact.as_str()) {
        return None;
    }
    if FACILITY_SUFFIXES.iter().any(|s| compact.ends_with(s)) {
        return None;
    }
    Some(name.to_string())
}

/// `잠실엘스 101동` → `잠실엘스`; `아시아선수촌 제3동` → `아시아선수촌`;
/// `Block 12` stays: only Korean building numbers (`동`, `호`) come off,
/// set apart by a space or `제`, or of three digits (`잠실엘스140동`), so
/// that an official dong keeps its number (`잠실3동`, `성내1동`).
fn without_building_number(name: &str) -> &str {
    let trimmed = name.trim_end();
    let Some(stem) = trimmed
        .strip_suffix('동')
        .or_else(|| trimmed.strip_suffix('호'))
    else {
        return name;
    };
    let head = stem.trim_end_matches(|c: char| c.is_ascii_alphanumeric() || c == '-');
    let number = &stem[head.len()..];
    let digits = number.chars().filter(|c| c.is_ascii_digit()).count();
    if digits == 0 {
        return name;
    }
    let (rest, marked) = match head.strip_suffix('제') {
        Some(r) => (r, true),
        None => (head, false),
    };
    let spaced = rest.ends_with(char::is_whitespace);
    let rest = rest.trim_end();
    if rest.is_empty() || !(marked || spaced || digits >= 3) {
        name
    } else {
        rest
    }
}

/// Digits with at most two letters or a Korean unit around them (`101`,
/// `202동`, `a-3`, `3층`, `B동`): a number, not a name.
fn is_number_like(compact: &str) -> bool {
    let core = compact.trim_end_matches(['동', '호', '층', '번', '관', '길']);
    let core = core.strip_prefix('제').unwrap_or(core);
    (core.chars().any(|c| c.is_ascii_digit()) || core.chars().count() <= 2)
        && core
            .chars()
            .all(|c| c.is_ascii_digit() || c == '-' || c.is_ascii_alphabetic())
        && core.chars().filter(|c| c.is_ascii_alphabetic()).count() <= 2
}

/// Whether a name is written in Hangul (its qualifiers are then Korean).
pub fn is_korean(name: &str) -> bool {
    name.chars().any(|c| ('\u{AC00}'..='\u{D7A3}').contains(&c))
}

/// The compass word for a bearing sector (0 north, clockwise, eighths), in
/// Korean or English.
pub fn compass(sector: usize, korean: bool) -> &'static str {
    const KO: [&str; 8] = ["북", "북동", "동", "남동", "남", "남서", "서", "북서"];
    const EN: [&str; 8] = [
        "north",
        "north-east",
        "east",
        "south-east",
        "south",
        "south-west",
        "west",
        "north-west",
    ];
    if korean {
        KO[sector % 8]
    } else {
        EN[sector % 8]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_generic_words_and_facilities_are_no_names() {
        for bad in [
            "101동",
            "202동",
            "101",
            "B동",
            "제3동",
            "12-3",
            "3층",
            "Building",
            "APARTMENTS",
            "관리사무소",
            "잠실엘스관리사무소",
            "  ",
            "yes",
        ] {
            assert_eq!(place_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_complex_name_comes_without_its_building_number() {
        for (raw, want) in [
            ("잠실엘스 101동", "잠실엘스"),
            ("잠실엘스140동", "잠실엘스"),
            ("아시아선수촌아파트 제3동", "아시아선수촌아파트"),
            ("파크리오 A-1동", "파크리오"),
            ("석촌호수", "석촌호수"),
            ("방이사거리", "방이사거리"),
            ("잠실동", "잠실동"),
            ("잠실3동", "잠실3동"),
            ("성내1동", "성내1동"),
            ("Residenz B", "Residenz B"),
        ] {
            assert_eq!(place_name(raw).as_deref(), Some(want), "{raw}");
        }
    }

    #[test]
    fn qualifiers_follow_the_language() {
        assert!(is_korean("잠실3동"));
        assert!(!is_korean("Triesen"));
        assert_eq!(compass(0, true), "북");
        assert_eq!(compass(5, false), "south-west");
    }
}
