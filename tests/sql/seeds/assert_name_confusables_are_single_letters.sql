-- Each confusable maps one non-ASCII character to one lower-case ASCII letter or digit: translate()
-- pairs the two columns character by character, so anything longer would shift every later pair.
with

confusables as (

    select * from {{ ref('name_confusables') }}

)

select * from confusables
where
    length(character) != 1
    or length(replacement) != 1
    or {{ regexp_replace_all('character', '[ -~]', '') }} = ''
    or not {{ regexp_full_match('replacement', '[a-z0-9]') }}
