"""English texts (second language). Same keys and placeholders as ``zh.py``."""

TEXTS: dict[str, str] = {
    # --- common ---
    "yes": "Yes",
    "no": "No",
    "unknown_command": "Unknown command. Send /help to see what you can do.",
    "error_generic": "Sorry, something went wrong and it has been logged. Everything you entered is saved; please try again later.",
    "error_storage_full": "Sorry, the server's storage is full, so this could not be saved. It has been logged and will work again once an administrator makes room; everything you entered before is saved. Please try again later.",
    "button_expired": "This button has expired. Please use the latest message.",
    "not_allowed": "You do not have permission to do this.",
    "stranger": (
        "Hello! This bot is for Chengdu's enterprise S&amp;T associations and industrial-zone S&amp;T associations to report their activities.\n\n"
        "You are not a member of any S&amp;T association yet. Please ask your district S&amp;T association or your organisation's "
        "S&amp;T association administrator for an invite link; open the link to join."
    ),
    "cancelled_nothing": "Nothing is in progress.",
    "flow_left": "You have left the current task.",
    "edited_message_hint": "Editing a message you already sent does not change the saved answer. Use “✏️ Edit” on the summary card to correct it.",
    "idle_hint": "To report an activity, tap “Report activity” or send /report. Send /help for help.",
    "date_fmt_weekday": "{date} ({weekday})",
    # --- commands (menu descriptions; plain text) ---
    "cmd_start": "Start / main menu",
    "cmd_report": "Report an activity",
    "cmd_mine": "Your organisation's reports",
    "cmd_help": "Help",
    "cmd_cancel": "Cancel the current task",
    "cmd_invite": "Create an invite link",
    "cmd_invites": "Manage unused invites",
    "cmd_members": "Manage members",
    "cmd_org": "S&T association registration details",
    "cmd_district": "District annual figures",
    "cmd_status": "District reporting progress",
    "cmd_chase": "Chase associations that have not reported",
    "cmd_export": "Export Annex 1-1/1-2/1-3",
    "cmd_plan": "Register a planned activity",
    "cmd_settings": "Reminders and language",
    # --- start / invites ---
    "welcome": (
        "Hello, {name}! This is <b>S&amp;T Association Activity Reporting</b>.\n"
        "Please report each activity <b>within 3 days after it ends</b>: date, name, content, "
        "host / co-organiser / organiser (主办/协办/承办), participants, results, and evidence such as photos.\n\n"
        "Your roles:\n{roles}"
    ),
    "welcome_buttons_report": "📝 Report activity",
    "welcome_buttons_mine": "📋 My reports",
    "joined": "✅ Joined: {what}.",
    "joined_already": "You already have this role: {what}. No need to join again.",
    "role_line": "• {role}: {scope}",
    "role_reporter": "Reporter",
    "role_org_admin": "S&T association admin",
    "role_district_admin": "District S&T association admin",
    "role_city_admin": "City S&T association admin",
    "scope_city": "Chengdu (whole city)",
    "invite_unknown": "This invite link is not valid. Please ask the administrator who sent it for a new one.",
    "invite_expired": "This invite link has expired. Please ask an administrator for a new one.",
    "invite_used_up": "This invite link has been used the maximum number of times. Please ask an administrator for a new one.",
    "invite_revoked": "This invite link has been revoked. Please ask an administrator for a new one.",
    # --- help ---
    "help": (
        "<b>Help</b>\n\n"
        "📝 /report Report an activity: answer step by step — date, name, content, "
        "host / co-organiser / organiser (主办/协办/承办), participants and results — "
        "then upload photos or a sign-in sheet as evidence, check and submit.\n"
        "⏰ Please report <b>within 3 days</b> after the activity. Later reports are still accepted but marked “late” (逾期).\n"
        "💾 Every step is saved automatically: leaving halfway or losing the connection loses nothing. Send /report again to continue.\n"
        "📋 /mine Your organisation's reports; you can edit or withdraw them until {deadline} each year.\n"
        "✖️ /cancel Leave the current task at any time.\n\n"
        "Dates can be written as: 2021-11-03, 2021/11/3, 11月3日, 11.3, 今天 (today), 昨天 (yesterday), 前天 (2 days ago).\n"
        "Participants can be written as: 50, 50人, 约50人 (about 50)."
    ),
    "help_more": "\n\n<b>More commands</b>\n{commands}",
    "help_command_line": "/{name} {description}",
    # --- report flow ---
    "report_pick_org": "You belong to several S&amp;T associations. Which one is this report for?",
    "report_no_org": (
        "You cannot report activities for any S&amp;T association at the moment. Please ask your organisation's "
        "S&amp;T association administrator or your district S&amp;T association for a reporter invite link."
    ),
    "report_draft_exists": (
        "You have an unfinished draft:\n<b>{name}</b> ({done}/{total} items filled in)\n\nContinue it or start over?"
    ),
    "report_resume": "Continue",
    "report_restart": "Start over",
    "report_untitled": "(untitled)",
    "report_started": "New report · {org}\nSend /cancel at any time to leave; your answers are saved.",
    "ask_date": (
        "<b>Step {step} of {total} · Date</b>\nOn which day was the activity held?\n"
        "Tap a button below or type the date, e.g. <code>2021-11-03</code> or <code>11月3日</code>."
    ),
    "btn_today": "Today {md}",
    "btn_yesterday": "Yesterday {md}",
    "btn_day_before": "2 days ago {md}",
    "date_unreadable": (
        "I could not read this date. Please write it like <code>2021-11-03</code>, <code>11月3日</code> or <code>11.3</code>, "
        "or 今天 (today), 昨天 (yesterday), 前天 (2 days ago)."
    ),
    "date_invalid": "This date does not exist (e.g. 30 February). Please check the month and day.",
    "date_future": "The activity date cannot be later than today — activities are reported after they take place. Please enter the date of an activity that has already been held.",
    "date_too_old": "This date is too early. Please check the year.",
    "date_late_warning": (
        "⚠️ The reporting period for this activity (3 days after it) ended on {closed}. You can still report it, but it will be marked <b>late</b>."
    ),
    "date_window_ok": "✅ Please submit by {closes}, when the reporting period ends.",
    "ask_name": "<b>Step {step} of {total} · Service (activity) name</b>\nPlease enter the name of the activity (up to {limit} characters).",
    "ask_content": (
        "<b>Step {step} of {total} · Service (activity) content</b>\nBriefly describe the activity: what was done, for whom and where."
    ),
    "ask_role": "<b>Step {step} of {total} · 主办/协办/承办</b>\nWhat was your S&amp;T association's role: 主办 (host), 协办 (co-organiser) or 承办 (organiser)?",
    "ask_headcount": "<b>Step {step} of {total} · Participants</b>\nHow many people took part? Please enter a number, e.g. <code>50</code>.",
    "ask_outcome": (
        "<b>Step {step} of {total} · Results</b>\nWhat did the activity achieve? E.g. agreements reached, problems solved, number of enterprises served."
    ),
    "ask_evidence": (
        "<b>Step {step} of {total} · Evidence</b>\nPlease send photos of the activity (at least 1; you can select several at once). "
        "You can also send files such as a sign-in sheet (PDF, Word, Excel or images, up to 20 MB each).\n"
        "Tap “Done” when you have finished."
    ),
    "ask_evidence_more": "{count} file(s) so far. You can send more; tap “Done” when you have finished.",
    "text_empty": "This cannot be empty. Please enter it again.",
    "text_too_long": "The {field} is too long ({length} characters); please shorten it to {limit}.",
    "text_one_line": "Please write the {field} on one line (at most {limit} characters). Content, headcount and so on come in later steps.",
    "text_split_tail": "This is the second half of an over-long message that Telegram split; it was not saved. Please shorten the text to {limit} characters and send it again.",
    "role_invalid": "Please tap one of the buttons below: 主办 (host), 协办 (co-organiser) or 承办 (organiser).",
    "headcount_unreadable": "Please enter the number of participants, e.g. <code>50</code> or <code>约50人</code>.",
    "headcount_not_positive": "The number of participants must be a whole number greater than 0.",
    "headcount_too_large": "This number is too large. Please check it and enter it again.",
    "headcount_range": "Please give one number (an estimate is fine), e.g. <code>55</code>.",
    "expect_text": "Please type your answer to this step.",
    "expect_button_or_text": "Please tap a button or type your answer.",
    "evidence_received_early": "📎 Received and kept as evidence ({total} so far).",
    "evidence_received_early_album": "📎 Received {added} files and kept them as evidence ({total} so far). Please go on with the question above.",
    "card_use_buttons": "Please use the buttons below: Submit, Edit or Cancel.",
    "evidence_received": "📎 Received {added} file(s); {total} in total. You can send more; tap “Done” when you have finished.",
    "evidence_duplicate": "This file was already received and is not counted twice. {total} file(s) in total.",
    "evidence_too_big": "The file is too large ({size}); the bot can only receive files up to 20 MB. Please compress it and send it again, or send photos instead.",
    "evidence_bad_type": (
        "This file type is not supported. Please send photos, or files in PDF, Word, Excel, WPS or image format (e.g. a sign-in sheet)."
    ),
    "evidence_bad_kind": "{kind} cannot be used as evidence. Please send photos or files (PDF, Word, Excel, images).",
    "kind_sticker": "Stickers",
    "kind_voice": "Voice messages",
    "kind_video": "Videos",
    "kind_audio": "Audio files",
    "kind_location": "Locations",
    "kind_contact": "Contact cards",
    "evidence_need_photo": "At least 1 photo of the activity is required. Please send a photo, then tap “Done”.",
    "evidence_download_failed": "The file could not be downloaded. Please send it again.",
    "evidence_empty": "This file is empty (0 bytes). Please send the original file.",
    "evidence_wrong_content": "This file's content is not {kind} (its extension may have been changed). Please send the original file.",
    "evidence_photo_not_image": "This photo does not contain an image. Please send the photo again.",
    "headcount_confirm": "The headcount is <b>{n}</b>, which is very large. Please confirm it is correct.",
    "btn_headcount_yes": "Confirm",
    "btn_headcount_redo": "Re-enter",
    "amend_conflict": (
        "⚠️ This report was changed by someone else after you opened it; your answer was not saved.\n"
        "{field} is now: <b>{current}</b>\nIf you still want to change it, answer the question below again."
    ),
    "membership_ended": (
        "Your membership of “{org}” has ended (an administrator removed you). To report for it "
        "again, ask its administrator or your district association for a new invite link."
    ),
    "membership_ended_draft": (
        "Your membership of “{org}” has ended (an administrator removed you), so your unfinished draft "
        "<b>{name}</b> cannot be continued and has been set aside. To report for this association, ask "
        "its administrator or your district association for a new invite link."
    ),
    "mine_membership_ended": (
        "Your membership of “{orgs}” has ended, so its reports are no longer shown. To rejoin, ask the "
        "association's administrator or your district association for a new invite link."
    ),
    "btn_done": "✅ Done",
    "btn_clear_evidence": "🗑 Clear and re-send",
    "evidence_cleared": "Evidence cleared. Please send it again.",
    # summary card
    "card_title": "<b>Please check your report</b> · {org}",
    "card_title_submitted": "<b>Report {ref}</b> · {org}",
    "card_line": "<b>{label}</b>: {value}",
    "card_missing": "(not filled in)",
    "card_late": "⚠️ {days} day(s) late",
    "card_late_pending": "⚠️ Past the reporting period; will be marked late",
    "card_on_time": "✅ On time",
    "card_evidence": "{photos} photo(s), {docs} file(s)",
    "label_date": "Date",
    "label_name": "Service (activity) name",
    "label_content": "Service (activity) content",
    "label_role": "Host / co-organiser / organiser",
    "label_headcount": "Participants",
    "label_outcome": "Results",
    "label_evidence": "Evidence",
    "label_status": "Status",
    "label_author": "Reported by",
    "label_submitted_at": "Submitted at",
    "label_changed_by": "Changed by",
    "headcount_value": "{n} people",
    "btn_submit": "✅ Submit",
    "btn_edit": "✏️ Edit",
    "btn_cancel": "✖️ Cancel",
    "btn_cancel_yes": "Yes, discard",
    "btn_cancel_no": "Back",
    "btn_back": "↩️ Back",
    "edit_pick": "Which item do you want to change?",
    "cancel_confirm": "Discard this report? Everything you have entered will be deleted.",
    "report_cancelled": "Report discarded. Send /report to start again when you need to.",
    "cancel_ask": "Discard the report you are filling in?\nChoose “Keep draft” to continue any time with /report.",
    "btn_keep_draft": "Keep draft",
    "btn_discard_draft": "Discard draft",
    "draft_kept": "Draft saved. Send /report to continue.",
    "submitted": (
        "🎉 Submitted! Reference number <b>{ref}</b>\nSent to the {district} S&amp;T association. To edit or withdraw it, send /mine."
    ),
    "submitted_late": "\n⚠️ This report is {days} day(s) late.",
    "incomplete": "Not filled in yet: {fields}.",
    "status_draft": "Draft",
    "status_submitted": "Submitted",
    "status_withdrawn": "Withdrawn",
    "status_cancelled": "Discarded",
    # mine
    "mine_empty": "Your organisation has no submitted reports yet. Send /report to report your first activity.",
    "mine_title": "<b>Your organisation's reports</b> ({total} in total, page {page}/{pages})",
    "mine_item": "{date} · {name} · {status}{late}",
    "mine_item_late": " · late",
    "btn_prev": "◀ Previous",
    "btn_next": "Next ▶",
    "btn_withdraw": "↩️ Withdraw",
    "btn_resubmit": "📤 Resubmit",
    "btn_done_editing": "✅ Finish editing",
    "withdraw_confirm": "Withdraw report {ref}? Withdrawn reports are not counted in the statistics; you can resubmit it later.",
    "btn_withdraw_yes": "Yes, withdraw",
    "withdrawn": "Report {ref} withdrawn.",
    "resubmitted": "Report {ref} resubmitted.",
    "amend_locked": "Reports for {year} closed on {deadline} and can no longer be edited or withdrawn.",
    "amend_saved": "Changes saved (the change has been logged).",
    "amend_done": "Editing finished.",
    "not_found_or_denied": "This report cannot be found, or you do not have permission to view it.",
    # --- registry ---
    "reg_denied": "Not found, or you may not do this.",
    "reg_admins_only": "This command is for association administrators.",
    "kind_enterprise": "enterprise association",
    "kind_zone": "industrial-zone association",
    # field labels (plain text)
    "reg_f_approval_no": "Approval number",
    "reg_f_approval_date": "Approval date",
    "reg_f_employees": "Employees",
    "reg_f_tech_staff": "Technical staff",
    "reg_f_association_members": "Association members",
    "reg_f_address": "Postal address",
    "reg_f_ownership": "Ownership",
    "reg_f_unit_members": "Unit members",
    "reg_f_individual_members": "Individual members",
    "reg_f_secretariat_unit": "Secretariat unit",
    "reg_f_zone_form": "Form",
    "reg_f_legal_rep": "Legal representative",
    "reg_f_chair": "Chair",
    "reg_f_vice_chair": "Vice-chairs",
    "reg_f_secretary_general": "Secretary-general",
    "reg_f_deputy_secretary_general": "Deputy secretaries-general",
    "reg_f_contact": "Contact",
    # validation
    "reg_err_phone_empty": "Please give a phone number.",
    "reg_err_phone": "Phone number not valid: a mobile has 11 digits starting with 1; a landline looks like 028-12345678.",
    "reg_err_date": "Cannot read this date; write it like 2019-05-20.",
    "reg_err_date_future": "The approval date cannot be after today.",
    "reg_err_date_old": "The approval date is too early; please check the year.",
    "reg_err_count": "Please give a whole number, e.g. 120.",
    "reg_err_count_negative": "A count cannot be negative.",
    "reg_err_count_large": "This number is too large; please check it.",
    "reg_err_ownership": "Ownership must be 国企 (state-owned) or 民企 (private).",
    "reg_err_zone_form": "The form must be 民办非 or 内设.",
    "reg_err_text_empty": "This cannot be empty.",
    "reg_err_text_long": "This is too long; please shorten it.",
    "reg_err_person_format": "Write name/title/phone, e.g. 张三/主席/13800000000.",
    "reg_err_person_name": "Please give the name.",
    "reg_err_person_long": "The name or title is too long.",
    "reg_err_person_one": "Only one person goes here.",
    "reg_err_tech_exceeds": "Technical staff cannot exceed the number of employees.",
    "reg_err_org_name": "An association's name needs 2 to 200 characters.",
    "org_name_empty": "The association's name cannot be empty.",
    "org_name_too_long": "The association's name is too long (200 characters at most).",
    "org_exists": "This district already has an association named “{name}”.",
    # /org
    "org_pick": "Which association's registry entry?",
    "org_none": "No associations yet. Press “New association” to add one.",
    "btn_org_new": "➕ New association",
    "btn_org_new_in": "➕ New association in {district}",
    "org_new_kind": "Which kind of association?",
    "org_new_name": "Send the full name of the {kind}. (/cancel to leave)",
    "org_created": "✅ Created {kind}: {name}.",
    "org_card_title": "<b>{name}</b>\n{kind} · {district} · {filled}/{total} filled",
    "org_card_complete": "✅ The registry entry is complete.",
    "org_card_missing": "Missing: {fields}",
    "btn_org_fill": "📝 Fill in what is missing",
    "btn_org_edit": "✏️ Change a field",
    "btn_org_skip": "Skip",
    "org_edit_pick": "Which field?",
    "org_ask_text": "Send the <b>{label}</b>.",
    "org_ask_date": "Send the <b>{label}</b>, e.g. 2019-05-20.",
    "org_ask_count": "Send the <b>{label}</b> (a whole number, 0 allowed).",
    "org_ask_choice": "Choose the <b>{label}</b>.",
    "org_ask_person": "Send the <b>{label}</b> as name/title/phone, e.g. 张三/主席/13800000000.",
    "org_ask_people": "Send the <b>{label}</b>, one per line, as name/title/phone.",
    "org_ask_current": "Now: {value}",
    "org_ask_walk_hint": "(Press “Skip” for the next field; /cancel to leave, everything is saved)",
    "org_saved": "Saved: {label}.",
    "org_left": "Left the registry entry; everything filled in is saved.",
    # /district
    "district_pick": "Choose the district:",
    "district_card": (
        "<b>{district} · {year}</b>\n"
        "(for the summary rows of annexes 1-1 and 1-2)\n\n"
        "Local enterprises: {local}\nTech enterprises: {tech}\nIndustrial zones: {zones}"
    ),
    "fig_local_enterprises": "Local enterprises",
    "fig_tech_enterprises": "Tech enterprises",
    "fig_zones": "Industrial zones",
    "btn_fig_set": "✏️ {label}",
    "district_ask": "Send {district}'s <b>{label}</b> for {year} (a whole number).",
    "district_saved": "Saved {label}: {value}.",
    # /status
    "status_card": (
        "<b>{district} · {year} status</b>\n"
        "Associations: {orgs} (enterprise {enterprises}, zone {zones})\n"
        "Registry incomplete: {incomplete}\n"
        "No activity reported this year: {silent}\n"
        "Reports this year: {reports}, late: {late}"
    ),
    "status_incomplete_head": "<b>Registry incomplete</b>",
    "status_incomplete_line": "• {name}: {n} missing",
    "status_silent_head": "<b>No activity reported this year</b>",
    "status_name_line": "• {name}",
    "status_more": "… and {n} more",
    # /invite, /invites
    "invite_pick_org": "Invite members to which association?",
    "invite_no_orgs": "There is no association you can invite members to.",
    "invite_pick_role": "<b>{org}</b>\nInvite as what?",
    "invite_pick_uses": "<b>{org}</b> · {role}\nHow many people may use this link?",
    "invite_pick_days": "<b>{org}</b> · {role}\nValid for how many days?",
    "invite_admin_single": "(administrator invites work once)",
    "btn_uses": "{n}×",
    "btn_days": "{n} days",
    "invite_made": (
        "✅ Invite link ({role} · {org}):\n{link}\n\n"
        "{uses} use(s), valid until {expires}. Send the link or the QR code below; opening it joins."
    ),
    "invite_qr_caption": "{org} · {role}\nScan to join (valid until {expires})",
    "invites_title": "<b>Open invites</b> ({n})",
    "invites_line": "{i}. {role} · {scope} · used {uses}/{max} · valid until {expires}",
    "invites_empty": "No open invites.",
    "btn_revoke": "Revoke {i}",
    "invite_revoked_ok": "Invite revoked: {role} · {scope}.",
    # /members
    "members_pick_org": "Members of which association?",
    "members_title": "<b>{org}</b> members ({n})",
    "members_line": "{i}. {name} · {role}",
    "members_empty": "<b>{org}</b> has no members yet. Send /invite to make a link.",
    "btn_remove": "Remove {i}. {name}",
    "member_remove_confirm": "Remove {name} ({role} · {org})?\nTheir access ends at once; their reports stay.",
    "btn_remove_yes": "Remove",
    "member_removed": "Removed {name} ({role} · {org}).",
    # import
    "imp_err_at_cell": "Row {row}, column {column} ({header}): {problem}",
    "imp_err_at_column": "Column “{header}”: {problem}",
    "imp_err_more": "… and {n} more problems.",
    "imp_err_too_big": "The file is too large (over 10 MB).",
    "imp_err_unreadable": "Cannot read this file; please send an Excel (.xlsx) file.",
    "imp_err_no_header": "No header found: the sheet needs a 单位名称 column and the columns of annex 1-1 or 1-2.",
    "imp_err_wrong_annex": "This sheet is laid out like annex {found}, not annex {expected}.",
    "imp_err_column_missing": "This column is missing.",
    "imp_err_too_many": "The sheet has more than {limit} rows and was not read; split it into several files.",
    "imp_err_name_missing": "The association's name is missing.",
    "imp_err_duplicate": "Same name as row {first}.",
    "imp_err_kind_clash": "The district has an association of the other kind with this name.",
    "imp_err_empty": "The sheet has no data rows.",
    "imp_done": "✅ Imported annex {annex} ({district}): {created} new, {updated} updated.",
    "imp_failed": "❌ The sheet has {n} problem(s); <b>nothing was imported</b>. Fix them and send it again:\n{lines}",
    "imp_download_failed": "Could not download the file; please send it again later.",
    "imp_err_archive": "This file expands to too much (over 50 MB uncompressed) or is compressed abnormally; it does not look like a registry and was not read.",
    "imp_err_too_complex": "This workbook is too complex: reading it went over the memory or time limit, so nothing was imported. Remove extra sheets, pictures and formatting and send it again.",
    "imp_err_xls": "This is an old Excel (.xls) file, which cannot be read. Please save it as .xlsx in Excel or WPS (Save As) and send it again.",
    "imp_err_protected": "This workbook is protected; remove the password (File → Info → Protect Workbook → Encrypt with Password, clear it) and send it again.",
    "imp_err_formula_name": "Cell {cell} holds a formula with no computed value; type the name as text.",
    "imp_err_formula": "Cell {cell} holds a formula with no computed value; type the value itself.",
    "imp_err_other_district": "The sheet's 所属区（市）县 is “{sheet}”, not {district}; nothing was imported. Check the file, or ask the admin of {sheet} to import it.",
    "imp_admins_only": "Only district and city admins can import a registry. To report an activity, send /report.",
    "imp_name_district": "You administer several districts, so the district cannot be told. Name it in the summary row at the end of the sheet (“所属区（市）县 | name”, as in annexes 1-1 and 1-2), or import with: kexie import 1-1 FILE.xlsx --district NAME",
    "imp_merged_title": "ℹ️ Some cells are merged across rows; their value was used for every row they span:\n{lines}",
    "imp_merged_note": "Merged cell {ref} ({header}): its value was used for rows {first} to {last}.",
    # --- export ---
    "export_choose_annex": "<b>Export the annual tables</b>\nWhich annex?",
    "btn_export_13": "Annex 1-3 activities (with evidence)",
    "btn_export_11": "Annex 1-1 enterprises",
    "btn_export_12": "Annex 1-2 zones",
    "btn_export_all": "All three annexes",
    "btn_export_cancel": "Cancel",
    "btn_export_year_current": "{year} (this year)",
    "btn_export_year": "{year}",
    "btn_export_city": "Whole city (one sheet per district + summary)",
    "export_annex_13": "Annex 1-3",
    "export_annex_11": "Annex 1-1",
    "export_annex_12": "Annex 1-2",
    "export_annex_all": "Annexes 1-1, 1-2, 1-3",
    "export_choose_year": "<b>{annex}</b>: which year? (type an earlier year, e.g. 2021)",
    "export_choose_where": "<b>{annex}</b>, {year}: which district, or the whole city?",
    "export_where_city": "whole city",
    "export_heading": "{annex} ({where}, {year})",
    "export_progress": "⏳ Exporting <b>{heading}</b>\n{step}",
    "export_step_reading": "Reading the data…",
    "export_step_writing": "Writing the workbooks…",
    "export_step_rows": "Writing the workbooks: {done}/{total} rows",
    "export_step_bundle": "Packing the evidence: {done}/{total} activities",
    "export_step_sending": "Sending file {done}/{total}…",
    "export_done": "✅ <b>{heading}</b> exported:\n{files}\n\n{activities} activities, {enterprises} enterprise associations, {zones} zone associations.",
    "export_file_line": "• {name} ({size})",
    "export_parts_hint": "The evidence comes in {parts} parts (each a complete zip). Unzip all parts into the same folder so the workbook's attachment links open their folders.",
    "export_missing": "Note: {count} evidence files are missing on the server and are not in the zip.",
    "export_too_big": "{name} is over 50 MB and cannot be sent through Telegram; ask the administrator to export it from the command line.",
    "export_failed": "Sorry, the export failed; it has been logged. Please try again later.",
    "export_busy": "You already have an export running; please wait until it has finished.",
    "export_cancelled": "Export cancelled.",
    "export_use_buttons": "Please use the buttons of the message above; send /cancel to stop the export.",
    "export_interrupted": "⚠️ Your export ({annex}, {year}) was interrupted by a restart of the bot and did not finish. Please send /export to ask for it again.",
    # --- end export ---
    # --- scheduler ---
    # deliveries to district (and opted-in city) admins
    "sch_head_report_submitted": "📥 <b>New report {ref}</b> · {district}\n{org}",
    "sch_head_report_resubmitted": "📤 <b>Report resubmitted {ref}</b> · {district}\n{org}",
    "sch_head_report_edited": "✏️ <b>Report changed {ref}</b> · {district}\n{org}",
    "sch_head_report_withdrawn": "↩️ <b>Report withdrawn {ref}</b> · {district}\n{org}\nWithdrawn reports are not counted in the tables.",
    "sch_changes": "<b>Changes</b>",
    "sch_changes_none": "(changed back to what it was)",
    "sch_evidence_total": "{n} in all",
    "sch_change_line": "• {field}: {old} → {new}",
    "sch_album_caption": "{ref} · {name} · photos",
    # drafts and plans
    "sch_draft_morning": "⏰ Your draft report <b>{name}</b> (activity on {date}) is not submitted yet. The deadline is <b>today at midnight</b>; tap “Continue” to finish it.",
    "sch_draft_closing": "⏰ A few hours left: the draft <b>{name}</b> (activity on {date}) is due today at midnight. Submitted now, it still counts as on time.",
    "sch_btn_resume": "Continue",
    "sch_plan_ask": "📝 Did your planned activity <b>{name}</b> on {date} take place? Tap “Report this activity”: its name and date are already filled in.",
    "sch_plan_last_call": "⏰ Today is the last day to report <b>{name}</b> ({date}); the deadline is midnight.",
    "sch_plan_missed": "ℹ️ {who} planned <b>{name}</b> ({org}) for {date}; the reporting window closed on {closed} without a report. If it took place, it can still be reported (marked late).",
    "sch_btn_report_plan": "📝 Report this activity",
    "sch_btn_not_held": "Did not happen, cancel the plan",
    # quiet associations
    "sch_nudge": "👋 {org} has not reported an activity for {days} days. Held one lately? Report it within 3 days of the activity.",
    "sch_btn_mute_nudges": "Stop these reminders",
    # the annual deadline
    "sch_deadline": (
        "📅 The {year} annual tables are due on <b>{deadline}</b> ({days} days left).\n"
        "<b>{district}</b> this year:\n"
        "• {orgs} associations ({enterprises} enterprise, {zones} industrial-zone)\n"
        "• {reports} activities reported, {late} of them late\n"
        "• {silent} associations have reported nothing this year\n"
        "• {incomplete} associations have incomplete registry data\n"
        "Please chase the missing reports and data, then export annexes 1-1, 1-2 and 1-3."
    ),
    "sch_btn_export": "📤 Export",
    "sch_city_summary": (
        "📊 <b>City-wide weekly summary, {year}</b> ({date}; annual tables due {deadline})\n"
        "City: {orgs} associations, {reports} activities reported ({late} late), {silent} associations with nothing reported this year.\n\n"
        "{lines}"
    ),
    "sch_city_line": "• {district}: {reports} reports ({late} late), {silent}/{orgs} silent",
    "sch_city_empty": "(no associations registered yet)",
    # /plan
    "plan_intro": "<b>Note a planned activity</b>\nThe morning after the activity I will remind you to report it, and once more on the last day of the reporting window.",
    "plan_upcoming": "Your planned activities:\n{items}",
    "plan_item": "• {date} · {name}",
    "plan_pick_org": "For which association is this plan?",
    "plan_ask_name": "What is the activity called? (at most {limit} characters)",
    "plan_ask_date": "When will it take place? Tap a button or type a date, e.g. <code>2021-11-20</code>.",
    "plan_btn_today": "Today {md}",
    "plan_btn_tomorrow": "Tomorrow {md}",
    "plan_btn_after": "Day after {md}",
    "plan_date_unreadable": "I could not read that date. Please write <code>2021-11-20</code>, or “today”, “tomorrow”.",
    "plan_date_past": "That date has passed; please give today or a later date. Report an activity that already took place with /report.",
    "plan_date_too_far": "Plans can be noted at most a year ahead.",
    "plan_saved": "✅ Noted: <b>{name}</b> ({date}).\nThe morning after, I will remind you to report it.",
    "plan_btn_cancel": "Cancel: {name}",
    "plan_cancelled": "Plan cancelled: {name}.",
    "plan_gone": "This plan was cancelled or does not exist.",
    "plan_already_reported": "This activity has already been reported. See /mine.",
    "plan_not_yet": "The activity day ({date}) has not come yet; report it afterwards.",
    "report_prefilled": "Filled in for you: <b>{name}</b> ({date}).",
    # /settings
    "settings_title": "<b>Reminders and language</b>",
    "settings_lang_line": "Language: {lang}",
    "settings_nudges_line": "Reminders when nothing was reported for a while: {state}",
    "settings_summary_line": "City-wide weekly summary (Mondays of the deadline month): {state}",
    "settings_delivery_line": "Receive every association's reports (cards and photos): {state}",
    "settings_essential": "Reminders about reporting windows and the annual deadline are essential and cannot be turned off.",
    "settings_on": "on",
    "settings_off": "off",
    "settings_btn_nudges_on": "🔔 Turn reminders on",
    "settings_btn_nudges_off": "🔕 Turn reminders off",
    "settings_btn_summary_on": "🔔 Turn the summary on",
    "settings_btn_summary_off": "🔕 Turn the summary off",
    "settings_btn_delivery_on": "📥 Receive city-wide reports",
    "settings_btn_delivery_off": "📭 Stop city-wide reports",
    "settings_saved": "Saved.",
    "lang_name_zh": "中文",
    "lang_name_en": "English",
    # --- end scheduler ---
    # --- chase (issue 12) ---
    "chase_head": "<b>{district} · chasing</b>\nBy days without a report, never-reported first:",
    "chase_line_never": "{n}. {name}: never reported · registry {complete}% complete",
    "chase_line": "{n}. {name}: last activity {last} ({days} days ago) · registry {complete}% complete",
    "chase_empty": "{district} has no associations yet.",
    "chase_btn_nudge": "Remind {n}. {name}",
    "chase_btn_all": "Remind all ({days}+ days silent)",
    "chase_btn_confirm": "Send",
    "chase_btn_cancel": "Cancel",
    "chase_all_confirm": "{orgs} associations silent for {days} days or more will be reminded; {people} people will receive it. Send?",
    "chase_all_none": "Nobody to remind: associations silent for {days} days or more were all reminded in the last 24 hours, or there are none.",
    "chase_all_done": "Reminded {orgs} associations, {people} people. Reminders during quiet hours go out in the morning.",
    "chase_all_cancelled": "Cancelled; no reminder sent.",
    "chase_sent": "Reminded {people} people of {org}. Reminders during quiet hours go out in the morning.",
    "chase_nobody": "{org} has no reporter or admin who can be reminded.",
    "chase_too_soon": "{org} was reminded on {when}; not again within 24 hours.",
    "sch_chase_nudge": "Hello! {district} asks: {org} has not reported an activity lately. If you held one, please report it with /report within 3 days of the activity. Thank you!",
    # --- end chase ---
    # --- digest (issue 12) ---
    "settings_digest_line": "Reports arrive: {state}",
    "settings_digest_each": "one by one, as they are submitted",
    "settings_digest_daily": "as a daily digest (09:00, yesterday's reports)",
    "settings_btn_digest_on": "🗓 Switch to the daily digest",
    "settings_btn_digest_off": "📨 Switch to one by one",
    "digest_head": "🗓 <b>{district} · reports of {date}</b> ({n} in all)\n{lines}\n\nPending reports can be reviewed with the buttons below, or with /review.",
    "digest_line": "{n}. {ref} “{name}” · {org} · held {date} · {state}",
    "sch_return_reminder": "⏰ Your report <b>{ref}</b> “{name}” was returned 3 days ago and has not been resubmitted.\nReason: {reason}\nPress “Amend” to correct it, then “Resubmit”.",
    # --- end digest ---
    # --- charts (issue 12) ---
    "chart_title": "{year} · {where} · activities reported",
    "chart_months": "Reports per month (by activity date)",
    "chart_on_time": "on time",
    "chart_late": "late",
    "chart_top_orgs": "The {n} most active associations",
    "chart_districts": "Reports per district",
    "chart_month_names": "Jan,Feb,Mar,Apr,May,Jun,Jul,Aug,Sep,Oct,Nov,Dec",
    "chart_city": "Chengdu",
    # --- end charts ---
    # --- review (审核, issue 12) ---
    "cmd_review": "Review pending reports",
    "review_label_state": "Review",
    "review_state_pending": "Pending review",
    "review_state_approved": "Approved",
    "review_state_returned": "Returned",
    "review_btn_approve": "✅ Approve",
    "review_btn_return": "↩️ Return",
    "review_btn_amend": "✏️ Amend",
    "review_btn_resubmit": "📤 Resubmit",
    "review_btn_open": "📋 Open the review queue",
    "review_btn_approve_page": "✅ Approve this page",
    "review_btn_item_approve": "✅ Approve {ref}",
    "review_btn_item_return": "↩️ Return {ref}",
    "sch_head_report_corrected": "🔁 <b>Corrected and resubmitted {ref}</b> · {district}\n{org}",
    "review_returned_notice": (
        "↩️ Your association's report <b>{ref}</b> “{name}” was returned by {district} ({by}).\n"
        "Reason: {reason}\n"
        "Press “Amend” to correct it, then “Resubmit”."
    ),
    "review_pending_reminder": "⏳ {district} has {n} report(s) waiting for review for more than 2 days; send /review.",
    "review_deadline_pending": "• reports pending review: {n}",
    "review_ask_reason": "Please type why <b>{ref}</b> is returned (at least 4 characters); the reporter will read it. /cancel keeps it pending.",
    "review_reason_short": "The reason needs at least 4 characters; please be specific so the reporter can correct it.",
    "review_reason_long": "The reason may be at most 500 characters.",
    "review_outcome_approved": "✅ <b>Approved</b> · {by} · {when}",
    "review_outcome_returned": "↩️ <b>Returned</b> · {by} · {when}\nReason: {reason}",
    "review_already": "{by} already decided this report on {when}: {state}.",
    "review_already_state": "This report is no longer pending review ({state}).",
    "review_approved_toast": "Approved {ref}",
    "review_returned_done": "{ref} returned; its reporter and org admins are told.",
    "review_return_cancelled": "Return abandoned; {ref} is still pending.",
    "review_queue_title": "📋 <b>Pending reports</b> ({total} in all, page {page}/{pages}, oldest first)",
    "review_queue_item": "{n}. <b>{ref}</b> {date} “{name}”\n    {org} · submitted {submitted}",
    "review_queue_empty": "✅ No report is waiting for review.",
    "review_queue_changed": "The list changed; please check it before approving the page.",
    "review_page_approved": "Approved {n} report(s) on this page.",
    "review_resubmit_needs_change": "Please amend at least one answer (“Amend”) before resubmitting.",
    "review_resubmitted": "{ref} resubmitted; waiting for {district} to review it.",
    "review_not_returned": "This report is not returned; there is nothing to resubmit.",
    "dup_warning": (
        "⚠️ This may duplicate <b>{ref}</b>: “{name}” (same association, same date, similar name).\n"
        "If it really is another activity, press “Submit anyway”."
    ),
    "dup_btn_submit": "Submit anyway",
    "dup_btn_view": "View that one",
    "export_btn_approved_off": "☐ Approved reports only (default: pending too)",
    "export_btn_approved_on": "☑ Approved reports only",
    "review_status_pending": "Reports pending review: {n} (send /review)",
    # --- end review ---
    # --- console (web/) ---
    "btn_console": "Console",
    "web_title": "Kexie console",
    "web_nav_reports": "Reports",
    "web_nav_associations": "Associations",
    "web_nav_overview": "Overview",
    "web_nav_export": "Export",
    "web_entry_wait": "Checking your Telegram identity…",
    "web_entry_missing": "Please open this page with the bot's “Console” button in Telegram.",
    "web_entry_noscript": "The console needs JavaScript to check who you are.",
    "web_logged_out": "You left the console. Press “Console” in Telegram to come back.",
    "web_error_title": "Cannot open this ({code})",
    "web_back_to_reports": "Back to the reports",
    "web_not_found": "This was not found, or it is outside what you oversee.",
    "web_session_expired": "Your session expired or you are not signed in. Go back to Telegram and press “Console” again.",
    "web_admins_only": "The console is for district and city administrators. To report, use /report in the chat.",
    "web_csrf": "This form is no longer valid (the page was open too long or came from elsewhere). Reload the page and try again.",
    "web_bad_request": "The request was not understood; go back and try again.",
    "web_init_refused": "Your Telegram identity could not be checked (the link may be older than 1 hour). Go back to Telegram and press “Console” again.",
    # console: associations (web/associations.py)
    "web_assoc_title": "Association registry",
    "web_assoc_district": "District",
    "web_assoc_all_districts": "All",
    "web_assoc_filter": "Filter",
    "web_assoc_count": "{total} associations",
    "web_assoc_col_name": "Name",
    "web_assoc_col_kind": "Kind",
    "web_assoc_col_complete": "Registry completeness",
    "web_assoc_col_reports": "Reports this year",
    "web_assoc_col_last": "Last activity",
    "web_assoc_col_quiet": "Chasing",
    "web_assoc_never": "Never reported",
    "web_assoc_quiet": "Silent for {days}+ days",
    "web_assoc_not_quiet": "Reported recently",
    "web_assoc_empty": "No association matches.",
    "web_assoc_prev": "Previous",
    "web_assoc_next": "Next",
    "web_assoc_page": "Page {page}/{pages}",
    "web_assoc_back": "← Back to the registry",
    "web_assoc_completeness": "Registry fields filled: {filled}/{total}",
    "web_assoc_members": "Reporters and admins: {n}",
    "web_assoc_year_reports": "Reports this year: {n}",
    "web_assoc_last": "Last activity: {date}",
    "web_assoc_chase": "Remind",
    "web_assoc_chase_hint": "Sends this association's reporters and admins a reminder to report, the same as /chase in the chat; at most once in 24 hours.",
    "web_assoc_last_chase": "Last reminded: {when}",
    "web_assoc_fields": "Registry fields",
    "web_assoc_missing": "Missing: {fields}",
    "web_assoc_all_filled": "All registry fields are filled in.",
    "web_assoc_reports": "Latest reports",
    "web_assoc_col_date": "Date",
    "web_assoc_col_report": "Activity",
    "web_assoc_col_state": "Review",
    "web_assoc_no_reports": "No reports yet.",
    # --- end console ---
}
