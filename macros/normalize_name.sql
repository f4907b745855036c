{#- Canonical form of a brand or company name, identical on DuckDB and Snowflake:
    lower case, accents folded, '&' -> 'and', punctuation -> space, whitespace collapsed,
    trailing legal suffixes removed, also stacked ('Foo Co., Ltd.', 'Foo GmbH & Co. KG',
    'Foo S.A. de C.V.') and written with dots ('S.A.S.', 'S.p.A.', 'B.V.': after punctuation
    becomes a space they read 's a s', 's p a', 'b v', so those spellings are listed too).
    Kana, CJK ideographs and hangul count as letters ('山田 Inc.' -> '山田').
    A name made only of suffixes keeps them all ('Co' stays 'co', 'S.A.S.' stays 's a s'); a name
    with no such letters at all but other ones (Cyrillic, ...) keeps them; a name of punctuation only is
    NULL (quarantined). Mirrored in scripts/generate_sample_data.py (normalize_name): keep both
    in step. -#}
{% macro normalize_name(expression) -%}
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
