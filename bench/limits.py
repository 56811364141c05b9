"""The vendors' published limits every floor in bench/ is computed from.

Nothing here imports provisioner: a floor must not share the tool's understanding of the APIs, or a
tool that batches badly would be measured against a floor that batches the same way.
"""

from __future__ import annotations

# --- Salesforce ------------------------------------------------------------------------------------
#: sObject Collections (create/update/upsert): at most 200 records per call.
#: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_sobjects_collections.htm
SF_COLLECTION_RECORDS = 200
#: REST request URI length (a SOQL query travels in the URL of GET /query).
#: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/limits.htm
SF_URI_BYTES = 16_384
#: The same 16,384 bytes bound the URI and the request headers together (431 past it); a request's own
#: headers (Host, Authorization: Bearer <token>, Accept, User-Agent...) take about this many.
SF_HEADER_BYTES = 512
#: A SOQL statement is at most 100,000 characters; one that does not fit a GET URI travels in the body of
#: a Composite call, which takes up to 5 query subrequests (of its 25).
#: https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_composite_composite.htm
SF_SOQL_CHARS = 100_000
SF_COMPOSITE_QUERIES = 5
#: Query results come back 2,000 records a page (nextRecordsUrl for the rest).
SF_QUERY_PAGE = 2_000
#: Bulk API 2.0 ingest: one job takes up to 100 MB of CSV (150,000,000 characters after base64).
#: https://developer.salesforce.com/docs/atlas.en-us.salesforce_app_limits_cheatsheet.meta/salesforce_app_limits_cheatsheet/salesforce_app_limits_platform_bulkapi.htm
SF_BULK_JOB_BYTES = 100 * 1024 * 1024
#: The calls of one Bulk API 2.0 ingest job: create, upload the CSV, close (UploadComplete), at least
#: one status read (JobComplete carries numberRecordsProcessed and numberRecordsFailed).
SF_BULK_JOB_CALLS = 4
#: ...plus successfulResults when the caller needs the new records' Ids (an insert it must link to),
#: plus failedResults only when the status reports failed records.
SF_BULK_RESULTS_CALL = 1
#: Metadata API create/update/read/upsert/delete: 10 components per call, one type per call.
#: https://developer.salesforce.com/docs/atlas.en-us.api_meta.meta/api_meta/meta_createMetadata.htm
SF_METADATA_COMPONENTS = 10
#: One OAuth token request per run (client credentials / JWT).
SF_TOKEN_CALLS = 1

# --- Marketo ---------------------------------------------------------------------------------------
#: REST writes and reads by filter: at most 300 records per call.
#: https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/lead-database/leads
MK_RECORDS = 300
#: Browsing assets (programs): 200 a page (maxReturn).
#: https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/programs
MK_BROWSE_PAGE = 200
#: Bulk import: a file of at most 10 MB; the import is one create call plus at least one status read.
#: https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/bulk-import/bulk-import
MK_IMPORT_BYTES = 10 * 1024 * 1024
MK_IMPORT_CALLS = 2
#: 100 calls per 20 seconds and 10 at once, per instance; 50,000 calls a day.
#: https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/rest-api#limits
MK_CALLS_PER_20S = 100
MK_CONCURRENT = 10
MK_DAILY_QUOTA = 50_000
#: One token request per run (valid 3,600 s).
MK_TOKEN_CALLS = 1
#: Today's usage: GET stats/usage.json, one call. No reply header carries it (unlike Salesforce's
#: Sforce-Limit-Info), so a run that states its share of the daily quota before writing (issue 18, item 5)
#: pays this call once.
#: https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/rest-api#limits
MK_USAGE_CALLS = 1
#: A program names its folder by id and type only (ProgramResponse.folder: {id, type}); a folder's path
#: (FolderResponse.path) takes one folder read, by id or by name.
#: https://experienceleague.adobe.com/en/docs/marketo-developer/marketo/rest/assets/folders
MK_FOLDER_PATH_CALLS = 1
