{#- Canonical form of a brand or company name, identical on DuckDB and Snowflake:
    lower case, accents folded, '&' -> 'and', punctuation -> space, whitespace collapsed,
    trailing legal suffixes (also stacked: 'Foo Co., Ltd.') removed. A name that is nothing
    but a suffix keeps it, so 'Co' does not become empty; a name with no a-z/0-9 at all but other
    letters (CJK, ...) keeps them; a name of punctuation only is NULL (quarantined). -#}
{% macro normalize_name(expression) -%}
    {%- set folded -%}
        translate(
            lower(trim({{ expression }})),
            'áàâäãåāăąçćčďéèêëēėęěíìîïīįłñńňóòôöõøōőŕřśšşťúùûüūůűųýÿźżžßæœ',
            'aaaaaaaaacccdeeeeeeeeiiiiiilnnnoooooooorrssstuuuuuuuuyyzzzsao'
        )
    {%- endset -%}
    {%- set spaced = regexp_replace_all(
        regexp_replace_all("replace(" ~ folded ~ ", '&', ' and ')", '[^a-z0-9]+', ' '),
        '^ +| +$', ''
    ) -%}
    {%- set suffixes = 'inc|incorporated|llc|l l c|ltd|limited|co|corp|corporation|company|gmbh|ag|kg|sa|s a|sas|sarl|srl|spa|bv|nv|plc|pty|pte|oy|ab|as|kk' -%}
    {%- set stripped = regexp_replace_all(spaced, '( (and )?(' ~ suffixes ~ '))+$', '') -%}
    {#- names in scripts without a-z/0-9 (e.g. 山田工房) keep their characters, whitespace collapsed -#}
    {%- set non_ascii_only = regexp_replace_all(folded, '[ -~]+', '') -%}
    {%- set collapsed = regexp_replace_all(folded, ' +', ' ') -%}
    coalesce(
        nullif({{ stripped }}, ''),
        nullif({{ spaced }}, ''),
        case when {{ non_ascii_only }} != '' then nullif({{ collapsed }}, '') end
    )
{%- endmacro %}
