{#- Canonical form of a brand or company name, identical on DuckDB and Snowflake (and in Python:
    loaders/common/names.py, normalize_name: keep both in step; the tests compare them on every
    case of the seed name_normalization_cases and on generated names). In this order:
    1. compatibility folding, the part of NFKC that `replace`/`translate` can do: fullwidth ASCII
       (U+FF01-FF5E) -> ASCII, ligatures (ﬁ ﬂ ﬀ) -> letters, superscript and subscript
       digits -> digits, Unicode spaces (no-break, en/em..., ideographic) -> space; deleted:
       format characters (zero-width space/joiners U+200B-200D, word joiner U+2060-2064, soft
       hyphen, BOM, bidi marks U+200E/200F/202A-202E/2066-2069), combining accents (a decomposed
       'é'), and apostrophes in every form (' ’ ‘ ‛ ʼ ʹ ʻ ʽ ` ´ ′ ‵ and fullwidth), without a space:
       "Nature's", "NATURE’S" and "Natures" are one name;
    2. look-alike letters of other scripts (seed name_confusables: Cyrillic 'а', Greek 'ο', ...)
       -> Latin, only when the name also has an ASCII Latin letter: a name written wholly in
       Cyrillic or Greek is a real name in that script and keeps its letters;
    3. trim, lower case, accents folded;
    4. '&' -> 'and', punctuation -> space, whitespace collapsed;
    5. a leading 'the' dropped when it is a word ('The Nature's Co' -> 'natures'; 'Theory' and a
       brand named just 'The' keep it);
    6. trailing legal suffixes removed, also stacked ('Foo Co., Ltd.', 'Foo GmbH & Co. KG',
       'Foo S.A. de C.V.') and written with dots ('S.A.S.', 'S.p.A.', 'B.V.': after punctuation
       becomes a space they read 's a s', 's p a', 'b v', so those spellings are listed too).
    Kana, CJK ideographs and hangul count as letters ('山田 Inc.' -> '山田').
    A name made only of suffixes keeps them all ('Co' stays 'co', 'S.A.S.' stays 's a s'); a name
    with no such letters at all but other ones (Cyrillic, ...) keeps them; a name of punctuation only is
    NULL (quarantined).
    Changing this changes brand ids: add a version (var name_normalization_version, macro
    normalize_name_versioned, a branch of stg_brand_id_aliases) and keep the old one, so old ids
    follow the brand. -#}
{% macro normalize_name(expression) -%}
    {%- set version = var('name_normalization_version') | string | trim -%}
    {%- if version == '1' -%}
        {{ normalize_name_v1(expression) }}
    {%- elif version == '2' -%}
        {{ normalize_name_v2(expression) }}
    {%- else -%}
        {{ exceptions.raise_compiler_error(
            "var name_normalization_version must be 1 or 2 (OUTREACH_NAME_NORMALIZATION_VERSION), got '" ~ version ~ "'"
        ) }}
    {%- endif -%}
{%- endmacro %}

{#- One version by number, whatever the active one is (stg_brand_id_aliases computes them all). -#}
{% macro normalize_name_versioned(expression, version) -%}
    {%- if version | string == '1' -%}
        {{ normalize_name_v1(expression) }}
    {%- else -%}
        {{ normalize_name_v2(expression) }}
    {%- endif -%}
{%- endmacro %}

{#- Version 2 (2026-12-07): compatibility folding, format characters, apostrophes, confusables,
    leading 'the' (steps 1, 2 and 5 above). -#}
{% macro normalize_name_v2(expression) -%}
    {%- set compatible = name_compatibility_fold(expression) -%}
    {%- set confusables_mapped -%}
        case
            when {{ regexp_replace_all(compatible, '[^A-Za-z]+', '') }} != ''
                then translate({{ compatible }}, {{ name_confusables('character') }}, {{ name_confusables('replacement') }})
            else {{ compatible }}
        end
    {%- endset -%}
    {%- set folded -%}
        translate(
            lower(trim({{ confusables_mapped }})),
            'áàâäãåāăąçćčďéèêëēėęěíìîïīįłñńňóòôöõøōőŕřśšşťúùûüūůűųýÿźżžßæœ',
            'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzzsao'
        )
    {%- endset -%}
    {#- kana, CJK ideographs and hangul are letters, not punctuation: '山田 Inc.' and '佐藤 Inc.'
        are two brands, not both 'inc' -#}
    {%- set spaced = regexp_replace_all(
        regexp_replace_all("replace(" ~ folded ~ ", '&', ' and ')", '[^a-z0-9ぁ-ヿ一-鿿가-힣]+', ' '),
        '^ +| +$', ''
    ) -%}
    {#- 'the' as a word only: 'theory' does not match '^the ', nor does a name that is only 'the' -#}
    {%- set articled = regexp_replace_all(spaced, '^the ', '') -%}
    {%- set suffix = '(' ~ legal_suffixes() | join('|') ~ ')' -%}
    {#- '(^| )': a name that is only suffixes is stripped whole here and kept by the fallback
        below, so 'S.A.S.' does not lose 'a s' (the dotted 'as') and become 's' -#}
    {%- set stripped = regexp_replace_all(articled, '(^| )(and )?' ~ suffix ~ '( (and )?' ~ suffix ~ ')*$', '') -%}
    {#- names in scripts without a-z/0-9 (e.g. 山田工房) keep their characters, whitespace collapsed -#}
    {%- set non_ascii_only = regexp_replace_all(folded, '[ -~]+', '') -%}
    {%- set collapsed = regexp_replace_all(folded, ' +', ' ') -%}
    coalesce(
        nullif({{ stripped }}, ''),
        nullif({{ articled }}, ''),
        case when {{ non_ascii_only }} != '' then nullif({{ collapsed }}, '') end
    )
{%- endmacro %}

{#- Step 1: the part of NFKC a `replace`/`translate` can do (see the header), plus deletions.
    translate() deletes the characters of its second argument that have no counterpart in the
    third, on DuckDB and Snowflake alike. The strings are built from code points ('%c'), so the
    macro holds no invisible characters. -#}
{% macro name_compatibility_fold(expression) -%}
    {#- the common ligatures only: each one is a nested replace(), and the nesting is what limits
        this expression (sqlfluff's parser, and readability) -#}
    {%- set ligatures = [(64257, 'fi'), (64258, 'fl'), (64256, 'ff')] -%}
    {%- set ns = namespace(source='', target='', deleted='', replaced=expression) -%}
    {%- for code, letters in ligatures -%}
        {%- set ns.replaced = "replace(" ~ ns.replaced ~ ", '" ~ ('%c' | format(code)) ~ "', '" ~ letters ~ "')" -%}
    {%- endfor -%}
    {#- fullwidth U+FF01-FF5E -> U+0021-007E; the fullwidth apostrophe (FF07) and backtick (FF40)
        are deleted below; the backslash (FF3C) becomes a space: punctuation either way, and a
        backslash is an escape character in Snowflake's string literals -#}
    {%- for code in range(65281, 65375) if code not in (65287, 65344) -%}
        {%- set ns.source = ns.source ~ ('%c' | format(code)) -%}
        {%- set ns.target = ns.target ~ (' ' if code == 65340 else ('%c' | format(code - 65248))) -%}
    {%- endfor -%}
    {#- Unicode spaces: no-break, ogham, en quad..hair space, narrow no-break, medium math, ideographic -#}
    {%- for code in [160, 5760] + range(8192, 8203) | list + [8239, 8287, 12288] -%}
        {%- set ns.source = ns.source ~ ('%c' | format(code)) -%}
        {%- set ns.target = ns.target ~ ' ' -%}
    {%- endfor -%}
    {#- superscript and subscript digits, superscript i and n -#}
    {%- set ns.source = ns.source ~ '⁰¹²³⁴⁵⁶⁷⁸⁹₀₁₂₃₄₅₆₇₈₉ⁱⁿ' -%}
    {%- set ns.target = ns.target ~ '01234567890123456789in' -%}
    {#- deleted: format characters, combining accents U+0300-036F, apostrophes (the ASCII one doubled:
        SQL quoting) -#}
    {%- for code in [173, 8203, 8204, 8205, 8206, 8207, 8234, 8235, 8236, 8237, 8238, 8288, 8289, 8290,
                     8291, 8292, 8294, 8295, 8296, 8297, 65279] + range(768, 880) | list -%}
        {%- set ns.deleted = ns.deleted ~ ('%c' | format(code)) -%}
    {%- endfor -%}
    {%- set ns.deleted = ns.deleted ~ "''’‘‛ʼʹʻʽ`´′‵" ~ ('%c' | format(65287)) ~ ('%c' | format(65344)) -%}
    translate({{ ns.replaced }}, '{{ ns.source ~ ns.deleted }}', '{{ ns.target }}')
{%- endmacro %}

{#- One column of the seed name_confusables as a string, in the same order for both columns (by
    character, which is unique), for translate(). A scalar subquery: the seed is read where the name
    is normalized, on any warehouse. -#}
{% macro name_confusables(column) -%}
    (
        select coalesce({{ dbt.listagg(column, "''", "order by character") }}, '')
        from {{ ref('name_confusables') }}
    )
{%- endmacro %}

{#- Version 1 (until 2026-12-07), kept so ids it made can be mapped to the current ones
    (stg_brand_id_aliases). Do not change it. -#}
{% macro normalize_name_v1(expression) -%}
    {%- set folded -%}
        translate(
            lower(trim({{ expression }})),
            'áàâäãåāăąçćčďéèêëēėęěíìîïīįłñńňóòôöõøōőŕřśšşťúùûüūůűųýÿźżžßæœ',
            'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzzsao'
        )
    {%- endset -%}
    {#- kana, CJK ideographs and hangul are letters, not punctuation: '山田 Inc.' and '佐藤 Inc.'
        are two brands, not both 'inc' -#}
    {%- set spaced = regexp_replace_all(
        regexp_replace_all("replace(" ~ folded ~ ", '&', ' and ')", '[^a-z0-9ぁ-ヿ一-鿿가-힣]+', ' '),
        '^ +| +$', ''
    ) -%}
    {%- set suffix = '(' ~ legal_suffixes() | join('|') ~ ')' -%}
    {#- '(^| )': a name that is only suffixes is stripped whole here and kept by the fallback
        below, so 'S.A.S.' does not lose 'a s' (the dotted 'as') and become 's' -#}
    {%- set stripped = regexp_replace_all(spaced, '(^| )(and )?' ~ suffix ~ '( (and )?' ~ suffix ~ ')*$', '') -%}
    {#- names in scripts without a-z/0-9 (e.g. 山田工房) keep their characters, whitespace collapsed -#}
    {%- set non_ascii_only = regexp_replace_all(folded, '[ -~]+', '') -%}
    {%- set collapsed = regexp_replace_all(folded, ' +', ' ') -%}
    coalesce(
        nullif({{ stripped }}, ''),
        nullif({{ spaced }}, ''),
        case when {{ non_ascii_only }} != '' then nullif({{ collapsed }}, '') end
    )
{%- endmacro %}


{#- Legal-form suffixes removed from the end of a name, as they read once punctuation is a space.
    Abbreviations also written letter by letter with dots get that spelling too ('s a r l' for
    'S.A.R.L.'); 'de cv' is the Mexican 'de C.V.' after 'S.A.'. Only whole trailing words are
    removed, so 'Costco' or 'Bolsa' keep their ending. -#}
{% macro legal_suffixes() -%}
    {%- set words = [
        'inc', 'incorporated', 'llc', 'ltd', 'limited', 'co', 'corp', 'corporation', 'company',
        'gmbh', 'ag', 'kg', 'sa', 'sas', 'sarl', 'srl', 'spa', 'bv', 'nv', 'plc', 'pty', 'pte',
        'oy', 'ab', 'as', 'kk', 'de cv'
    ] -%}
    {%- set dotted = [
        'llc', 'gmbh', 'ag', 'kg', 'sa', 'sas', 'sarl', 'srl', 'spa', 'bv', 'nv', 'plc', 'ab', 'as', 'kk'
    ] -%}
    {%- set spellings = words + (dotted | map('list') | map('join', ' ') | list) + ['de c v'] -%}
    {{ return(spellings) }}
{%- endmacro %}

{#- The brand identity: md5 of '<marketplace>|<normalized name>' (see the brand_id docs block);
    NULL when the name normalizes to NULL. -#}
{% macro brand_id(marketplace_expression, normalized_name_expression) -%}
    {{ dbt.hash(dbt.concat([marketplace_expression, "'|'", normalized_name_expression])) }}
{%- endmacro %}
