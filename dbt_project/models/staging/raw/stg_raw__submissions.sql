with

source as (

    select * from {{ source('raw', 'submissions') }}

),

renamed as (

    select
        submission_id,
        sha256,
        file_name,
        archived_path,
        received_at,
        run_id,
        province,
        committee_name,
        committee_code,
        committee_level,
        committee_key,
        unit_key,
        province_code,
        preparer,
        try_cast(prepared_on as date) as prepared_on,
        try_cast(report_year as integer) as report_year,
        try_cast(version as integer) as version,
        contact_email,
        report_kind,
        read_error

    from source

)

select * from renamed
