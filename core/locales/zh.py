"""简体中文文案（主语言）。HTML 格式；参数在 core.texts.t 中统一转义。"""

TEXTS: dict[str, str] = {
    # --- common ---
    "yes": "是",
    "no": "否",
    "unknown_command": "无法识别该命令。发送 /help 查看使用帮助。",
    "error_generic": "抱歉，处理时出了问题，已记录。您已填写的内容均已保存，请稍后再试。",
    "error_storage_full": "抱歉，服务器存储空间已满，这次的内容未能保存。问题已记录，管理员清理后即可继续；此前填写的内容均已保存，请稍后再试。",
    "button_expired": "这个按钮已失效，请看最新的消息。",
    "not_allowed": "您没有权限进行这个操作。",
    "stranger": (
        "您好！这个机器人供成都市企业科协、产业功能区科协报送活动信息使用。\n\n"
        "您还不是任何科协的成员。请联系所在区（市）县科协或本单位科协管理员，"
        "索取邀请链接，点开链接即可加入。"
    ),
    "cancelled_nothing": "当前没有进行中的操作。",
    "flow_left": "已退出当前操作。",
    "edited_message_hint": "编辑已发送的消息不会更改已保存的回答。请在填完后的核对卡片上点“✏️ 修改”来更正。",
    "idle_hint": "要报送活动请点“报送活动”或发送 /report；发送 /help 查看帮助。",
    "date_fmt_weekday": "{date}（{weekday}）",
    # --- commands (menu descriptions; plain text) ---
    "cmd_start": "开始 / 主菜单",
    "cmd_report": "报送一项活动",
    "cmd_mine": "查看本单位的报送",
    "cmd_help": "使用帮助",
    "cmd_cancel": "取消当前操作",
    "cmd_invite": "生成邀请链接",
    "cmd_invites": "管理未用的邀请",
    "cmd_members": "管理成员",
    "cmd_org": "科协登记信息",
    "cmd_district": "区县年度数据",
    "cmd_status": "区县报送情况",
    "cmd_chase": "催报：提醒未报送的科协",
    "cmd_export": "导出附件1-1/1-2/1-3",
    "cmd_plan": "登记计划开展的活动",
    "cmd_settings": "提醒与语言设置",
    # --- start / invites ---
    "welcome": (
        "您好，{name}！这里是<b>科协活动报送</b>。\n"
        "每项活动请在<b>活动结束后3日内</b>报送：时间、名称、内容、主办/协办/承办、参与人数、"
        "取得成效和照片等佐证材料。\n\n"
        "您的身份：\n{roles}"
    ),
    "welcome_buttons_report": "📝 报送活动",
    "welcome_buttons_mine": "📋 我的报送",
    "joined": "✅ 已加入：{what}。",
    "joined_already": "您已拥有此身份：{what}，无需重复加入。",
    "role_line": "• {role}：{scope}",
    "role_reporter": "报送员",
    "role_org_admin": "科协管理员",
    "role_district_admin": "区（市）县科协管理员",
    "role_city_admin": "市科协管理员",
    "scope_city": "成都市（全市）",
    "invite_unknown": "这个邀请链接无效。请向发给您链接的管理员重新索取。",
    "invite_expired": "这个邀请链接已过期。请向管理员索取新的链接。",
    "invite_used_up": "这个邀请链接的可用次数已用完。请向管理员索取新的链接。",
    "invite_revoked": "这个邀请链接已被撤销。请向管理员索取新的链接。",
    # --- help ---
    "help": (
        "<b>使用帮助</b>\n\n"
        "📝 /report 报送一项活动：按提示依次填写时间、名称、内容、主办/协办/承办、参与人数、"
        "取得成效，再上传照片或签到表等佐证材料，最后核对并提交。\n"
        "⏰ 请在活动结束后<b>3日内</b>报送；超过期限仍可报送，但会标记为“逾期”。\n"
        "💾 每一步都会自动保存，中途退出或断网都不会丢失，再发 /report 可继续。\n"
        "📋 /mine 查看本单位的报送，每年{deadline}前可修改或撤回。\n"
        "✖️ /cancel 随时退出当前操作。\n\n"
        "日期可以这样写：2021-11-03、2021/11/3、11月3日、11.3、今天、昨天、前天。\n"
        "人数可以写：50、50人、约50人。"
    ),
    "help_more": "\n\n<b>其他命令</b>\n{commands}",
    "help_command_line": "/{name} {description}",
    # --- registry ---
    "reg_denied": "找不到该项，或者您没有权限。",
    "reg_admins_only": "这个命令供科协管理员使用。",
    "kind_enterprise": "企业科协",
    "kind_zone": "产业功能区科协",
    # field labels (plain text)
    "reg_f_approval_no": "批准文号",
    "reg_f_approval_date": "批准时间",
    "reg_f_employees": "员工总数",
    "reg_f_tech_staff": "科技人员数",
    "reg_f_association_members": "科协会员数",
    "reg_f_address": "通信地址",
    "reg_f_ownership": "单位性质",
    "reg_f_unit_members": "单位会员数量",
    "reg_f_individual_members": "个人会员数量",
    "reg_f_secretariat_unit": "秘书长执行单位",
    "reg_f_zone_form": "组织形式",
    "reg_f_legal_rep": "法人代表",
    "reg_f_chair": "主席",
    "reg_f_vice_chair": "副主席",
    "reg_f_secretary_general": "秘书长",
    "reg_f_deputy_secretary_general": "副秘书长",
    "reg_f_contact": "联系人",
    # validation
    "reg_err_phone_empty": "请填写电话号码。",
    "reg_err_phone": "电话号码不正确：手机号为11位（1开头），座机写成 028-12345678。",
    "reg_err_date": "看不懂这个日期，请写成 2019-05-20 或 2019年5月20日。",
    "reg_err_date_future": "批准时间不能晚于今天。",
    "reg_err_date_old": "批准时间太早了，请检查年份。",
    "reg_err_count": "请填写一个整数，例如 120。",
    "reg_err_count_negative": "数量不能是负数。",
    "reg_err_count_large": "这个数字太大了，请检查。",
    "reg_err_ownership": "单位性质请填“国企”或“民企”。",
    "reg_err_zone_form": "组织形式请填“民办非”或“内设”。",
    "reg_err_text_empty": "内容不能为空。",
    "reg_err_text_long": "内容太长了，请精简后再发。",
    "reg_err_person_format": "请按“姓名/职务/电话”填写，例如 张三/主席/13800000000。",
    "reg_err_person_name": "请填写姓名。",
    "reg_err_person_long": "姓名或职务太长了。",
    "reg_err_person_one": "这一项只能填一个人。",
    "reg_err_tech_exceeds": "科技人员数不能多于员工总数。",
    "reg_err_org_name": "科协名称需要2到200个字。",
    "org_name_empty": "科协名称不能为空。",
    "org_name_too_long": "科协名称太长了（最多200字）。",
    "org_exists": "本区已有名为“{name}”的科协。",
    # /org
    "org_pick": "选择要查看或填写登记信息的科协：",
    "org_none": "还没有科协。点“新建科协”添加一个。",
    "btn_org_new": "➕ 新建科协",
    "btn_org_new_in": "➕ 在{district}新建科协",
    "org_new_kind": "新建哪一类科协？",
    "org_new_name": "请发送{kind}的全称，例如“成都某某科技有限公司科协”。（/cancel 退出）",
    "org_created": "✅ 已新建{kind}：{name}。",
    "org_card_title": "<b>{name}</b>\n{kind} · {district} · 已填 {filled}/{total} 项",
    "org_card_complete": "✅ 登记信息已填写完整。",
    "org_card_missing": "尚缺：{fields}",
    "btn_org_fill": "📝 逐项填写缺失项",
    "btn_org_edit": "✏️ 修改某一项",
    "btn_org_skip": "跳过",
    "org_edit_pick": "要填写或修改哪一项？",
    "org_ask_text": "请发送<b>{label}</b>。",
    "org_ask_date": "请发送<b>{label}</b>，例如 2019-05-20。",
    "org_ask_count": "请发送<b>{label}</b>（整数，可以是0）。",
    "org_ask_choice": "请选择<b>{label}</b>。",
    "org_ask_person": "请发送<b>{label}</b>，格式：姓名/职务/电话，例如 张三/主席/13800000000。",
    "org_ask_people": "请发送<b>{label}</b>，每人一行，格式：姓名/职务/电话。",
    "org_ask_current": "当前：{value}",
    "org_ask_walk_hint": "（点“跳过”先填下一项；/cancel 退出，已填内容都已保存）",
    "org_saved": "已保存{label}。",
    "org_left": "已退出登记信息填写，已填内容都已保存。",
    # /district
    "district_pick": "选择区（市）县：",
    "district_card": (
        "<b>{district} · {year}年度数据</b>\n"
        "（填入附件1-1、1-2的汇总行）\n\n"
        "属地企业数量：{local}\n科技企业数量：{tech}\n产业功能区数量：{zones}"
    ),
    "fig_local_enterprises": "属地企业数量",
    "fig_tech_enterprises": "科技企业数量",
    "fig_zones": "产业功能区数量",
    "btn_fig_set": "✏️ {label}",
    "district_ask": "请发送{district}{year}年的<b>{label}</b>（整数）。",
    "district_saved": "已保存{label}：{value}。",
    # /status
    "status_card": (
        "<b>{district} · {year}年报送情况</b>\n"
        "科协 {orgs} 个（企业 {enterprises}，功能区 {zones}）\n"
        "登记信息不完整：{incomplete} 个\n"
        "今年尚未报送活动：{silent} 个\n"
        "今年已报送 {reports} 项，其中逾期 {late} 项"
    ),
    "status_incomplete_head": "<b>登记信息不完整</b>",
    "status_incomplete_line": "• {name}：缺 {n} 项",
    "status_silent_head": "<b>今年尚未报送活动</b>",
    "status_name_line": "• {name}",
    "status_more": "……另有 {n} 个",
    # /invite, /invites
    "invite_pick_org": "为哪个科协生成邀请链接？",
    "invite_no_orgs": "还没有可以邀请成员的科协。",
    "invite_pick_role": "<b>{org}</b>\n邀请什么身份？",
    "invite_pick_uses": "<b>{org}</b> · {role}\n这个链接可以用几次？（每人用一次）",
    "invite_pick_days": "<b>{org}</b> · {role}\n链接有效几天？",
    "invite_admin_single": "（管理员邀请只能使用一次）",
    "btn_uses": "{n}次",
    "btn_days": "{n}天",
    "invite_made": (
        "✅ 邀请链接（{role} · {org}）：\n{link}\n\n"
        "可用 {uses} 次，{expires}前有效。把链接或下面的二维码发给对方，点开即可加入。"
    ),
    "invite_qr_caption": "{org} · {role}\n扫码加入（{expires}前有效）",
    "invites_title": "<b>未使用的邀请</b>（{n} 个）",
    "invites_line": "{i}. {role} · {scope} · 已用 {uses}/{max} · {expires}前有效",
    "invites_empty": "没有未使用的邀请。",
    "btn_revoke": "撤销 {i}",
    "invite_revoked_ok": "已撤销邀请：{role} · {scope}。",
    # /members
    "members_pick_org": "查看哪个科协的成员？",
    "members_title": "<b>{org}</b> 的成员（{n} 人）",
    "members_line": "{i}. {name} · {role}",
    "members_empty": "<b>{org}</b> 还没有成员。发送 /invite 生成邀请链接。",
    "btn_remove": "移除 {i}. {name}",
    "member_remove_confirm": "确定移除 {name}（{role} · {org}）吗？\n移除后立即失去权限，已报送的内容保留。",
    "btn_remove_yes": "确认移除",
    "member_removed": "已移除 {name}（{role} · {org}）。",
    # import
    "imp_err_at_cell": "第{row}行 {column}列（{header}）：{problem}",
    "imp_err_at_column": "“{header}”列：{problem}",
    "imp_err_more": "……另有 {n} 处问题。",
    "imp_err_too_big": "文件太大（超过10 MB）。",
    "imp_err_unreadable": "无法读取这个文件，请上传 Excel（.xlsx）文件。",
    "imp_err_no_header": "找不到表头：表中应有“单位名称”一列和附件1-1或1-2的各列。",
    "imp_err_wrong_annex": "这是附件{found}格式的表，不是附件{expected}。",
    "imp_err_column_missing": "表中缺少这一列。",
    "imp_err_too_many": "表格超过 {limit} 行，没有读取。请拆分成几个文件分别发送。",
    "imp_err_name_missing": "缺少单位名称。",
    "imp_err_duplicate": "单位名称与第{first}行重复。",
    "imp_err_kind_clash": "本区已有同名但类型不同的科协。",
    "imp_err_empty": "表中没有数据行。",
    "imp_done": "✅ 已导入附件{annex}（{district}）：新增 {created} 个，更新 {updated} 个科协。",
    "imp_failed": "❌ 表格中有 {n} 处问题，<b>没有导入任何内容</b>。请修改后重新发送：\n{lines}",
    "imp_download_failed": "文件下载失败，请稍后重新发送。",
    "imp_err_archive": "这个文件解压后过大或压缩比异常（解压后最多 50 MB），不像是正常的登记表，没有读取。",
    "imp_err_too_complex": "这个表格太复杂，读取时超出了内存或时间限制，没有导入。请删去多余的工作表、图片和格式后重新发送。",
    "imp_err_xls": "这是旧版 Excel（.xls）文件，无法读取。请在 Excel 或 WPS 中“另存为” .xlsx 格式后重新发送。",
    "imp_err_protected": "这个工作簿设置了密码保护，无法读取。请在 Excel 中去掉密码（文件 → 信息 → 保护工作簿 → 用密码进行加密，清空密码）后重新发送。",
    "imp_err_formula_name": "单元格 {cell} 是公式，没有可读取的结果。请把单位名称直接输入为文字。",
    "imp_err_formula": "单元格 {cell} 是公式，没有可读取的结果。请直接输入内容。",
    "imp_err_other_district": "表中的所属区（市）县是“{sheet}”，不是{district}，没有导入。请检查文件，或请{sheet}的管理员导入。",
    "imp_admins_only": "只有区（市）县科协和市科协管理员可以导入登记表。报送活动请发送 /report。",
    "imp_name_district": "您管理多个区（市）县，无法确定导入到哪个区。请在表格末尾的汇总行写明“所属区（市）县 | 区名”（同附件1-1、1-2），或用命令导入：kexie import 1-1 文件.xlsx --district 区名",
    "imp_merged_title": "ℹ️ 表中有跨行合并的单元格，合并的内容已用于它跨越的每一行：\n{lines}",
    "imp_merged_note": "合并单元格 {ref}（{header}）的内容已用于第{first}至{last}行。",
    # --- report flow ---
    "report_pick_org": "您在多个科协任职。这次为哪个科协报送？",
    "report_no_org": (
        "您目前不能为任何科协报送活动。请联系本单位科协管理员或区（市）县科协，索取报送员邀请链接。"
    ),
    "report_draft_exists": (
        "您有一份未完成的报送草稿：\n<b>{name}</b>（已填 {done}/{total} 项）\n\n继续填写，还是重新开始？"
    ),
    "report_resume": "继续填写",
    "report_restart": "重新开始",
    "report_untitled": "（未命名）",
    "report_started": "开始报送 · {org}\n随时发送 /cancel 退出，已填内容会保存。",
    "ask_date": (
        "<b>第{step}步/共{total}步 · 时间</b>\n活动是哪天举办的？\n"
        "可以直接点下面的按钮，或输入日期，例如 <code>2021-11-03</code>、<code>11月3日</code>。"
    ),
    "btn_today": "今天 {md}",
    "btn_yesterday": "昨天 {md}",
    "btn_day_before": "前天 {md}",
    "date_unreadable": (
        "无法识别这个日期。请写成 <code>2021-11-03</code>、<code>11月3日</code>、<code>11.3</code>，"
        "或者“今天”“昨天”“前天”。"
    ),
    "date_invalid": "这个日期不存在（比如2月30日），请检查月份和日期。",
    "date_future": "活动日期不能晚于今天。活动结束后才能报送，请输入已举办活动的日期。",
    "date_too_old": "日期太早了，请检查年份。",
    "date_late_warning": (
        "⚠️ 这项活动的报送期限（活动后3日内）已于 {closed} 截止。仍可以报送，但会标记为<b>逾期</b>。"
    ),
    "date_window_ok": "✅ 请在 {closes} 前提交，届时报送期限截止。",
    "ask_name": "<b>第{step}步/共{total}步 · 服务（活动）名称</b>\n请输入活动名称（不超过{limit}字）。",
    "ask_content": (
        "<b>第{step}步/共{total}步 · 服务（活动）内容</b>\n请简要介绍活动内容：做了什么、面向谁、在哪里。"
    ),
    "ask_role": "<b>第{step}步/共{total}步 · 主办/协办/承办</b>\n本科协在活动中是主办、协办还是承办？",
    "ask_headcount": "<b>第{step}步/共{total}步 · 参与人数</b>\n有多少人参加？请输入数字，例如 <code>50</code>。",
    "ask_outcome": (
        "<b>第{step}步/共{total}步 · 取得成效</b>\n活动取得了哪些成效？例如达成合作、解决问题、服务企业数量等。"
    ),
    "ask_evidence": (
        "<b>第{step}步/共{total}步 · 佐证材料</b>\n请发送活动照片（至少1张，可一次选多张），"
        "也可以发送签到表等文件（PDF、Word、Excel、图片，单个不超过20MB）。\n"
        "发送完毕后点“完成”。"
    ),
    "ask_evidence_more": "已有 {count} 个文件。可以继续发送，发完点“完成”。",
    "text_empty": "内容不能为空，请重新输入。",
    "text_too_long": "{field}太长了（{length}字），请精简到{limit}字以内。",
    "text_one_line": "{field}请写成一行（不超过{limit}字）。活动内容、人数等请在后面的步骤中填写。",
    "text_split_tail": "这是上一条过长消息被拆开的后半部分，没有保存。请把内容精简到{limit}字以内后重新发送。",
    "role_invalid": "请点击下面的按钮选择：主办、协办或承办。",
    "headcount_unreadable": "请输入参与人数，例如 <code>50</code> 或 <code>约50人</code>。",
    "headcount_not_positive": "参与人数应为大于0的整数。",
    "headcount_too_large": "人数过多，请核对后重新输入。",
    "headcount_range": "请只填一个数字（可以填大约的人数），例如 <code>55</code>。",
    "expect_text": "这一步需要输入文字。",
    "expect_button_or_text": "请点击按钮或输入文字。",
    "evidence_received_early": "📎 已收到，先存为佐证材料（现有 {total} 个）。",
    "evidence_received_early_album": "📎 已收到 {added} 个文件，先存为佐证材料（现有 {total} 个）。请继续回答上面的问题。",
    "card_use_buttons": "请点击下面的按钮：“提交”“修改”或“取消”。",
    "evidence_received": "📎 已收到 {added} 个文件，现有佐证材料 {total} 个。可以继续发送，发完点“完成”。",
    "evidence_duplicate": "这个文件已经收到过，不重复计算。现有佐证材料 {total} 个。",
    "evidence_too_big": "文件太大（{size}），机器人只能接收20MB以内的文件。请压缩后再发，或改发照片。",
    "evidence_bad_type": (
        "不支持这种文件。请发送照片，或PDF、Word、Excel、WPS、图片格式的文件（如签到表）。"
    ),
    "evidence_bad_kind": "不支持{kind}作为佐证材料。请发送照片或文件（PDF、Word、Excel、图片）。",
    "kind_sticker": "贴纸",
    "kind_voice": "语音",
    "kind_video": "视频",
    "kind_audio": "音频",
    "kind_location": "位置",
    "kind_contact": "名片",
    "evidence_need_photo": "至少需要1张活动照片。请先发送照片再点“完成”。",
    "evidence_download_failed": "文件下载失败，请重新发送一次。",
    "evidence_empty": "这个文件是空的（0 字节），请发送原文件。",
    "evidence_wrong_content": "这个文件的内容不是 {kind}（可能改过扩展名），请发送原文件。",
    "evidence_photo_not_image": "这张照片的内容不是图片，请重新发送照片。",
    "headcount_confirm": "参与人数是 <b>{n}</b> 人，人数较多，请确认是否填写正确。",
    "btn_headcount_yes": "确认",
    "btn_headcount_redo": "重新填写",
    "amend_conflict": (
        "⚠️ 在您打开之后，这份报送已被修改（其他人刚保存了修改），您这次的回答没有保存。\n"
        "{field}现在是：<b>{current}</b>\n如仍要修改，请重新回答下面的问题。"
    ),
    "membership_ended": (
        "您在「{org}」的成员身份已结束（已被管理员移除），不能再为该单位报送或修改报送。"
        "如需恢复，请向本单位科协管理员或所在区（市）县科协索取新的邀请链接。"
    ),
    "membership_ended_draft": (
        "您在「{org}」的成员身份已结束（已被管理员移除），未完成的报送草稿<b>{name}</b>无法继续填写，已作废。"
        "如需为该单位报送，请向本单位科协管理员或所在区（市）县科协索取新的邀请链接。"
    ),
    "mine_membership_ended": (
        "您在「{orgs}」的成员身份已结束，该单位的报送不再显示。"
        "如需恢复，请向本单位科协管理员或所在区（市）县科协索取新的邀请链接。"
    ),
    "btn_done": "✅ 完成",
    "btn_clear_evidence": "🗑 清空重传",
    "evidence_cleared": "已清空佐证材料，请重新发送。",
    # summary card
    "card_title": "<b>请核对报送内容</b> · {org}",
    "card_title_submitted": "<b>报送 {ref}</b> · {org}",
    "card_line": "<b>{label}</b>：{value}",
    "card_missing": "（未填）",
    "card_late": "⚠️ 逾期 {days} 天",
    "card_late_pending": "⚠️ 已超过报送期限，将标记为逾期",
    "card_on_time": "✅ 按时",
    "card_evidence": "{photos} 张照片，{docs} 个文件",
    "label_date": "时间",
    "label_name": "服务（活动）名称",
    "label_content": "服务（活动）内容",
    "label_role": "主办/协办/承办",
    "label_headcount": "参与人数",
    "label_outcome": "取得成效",
    "label_evidence": "佐证材料",
    "label_status": "状态",
    "label_author": "报送人",
    "label_submitted_at": "提交时间",
    "label_changed_by": "修改/撤回人",
    "headcount_value": "{n}人",
    "btn_submit": "✅ 提交",
    "btn_edit": "✏️ 修改",
    "btn_cancel": "✖️ 取消",
    "btn_cancel_yes": "确认放弃",
    "btn_cancel_no": "返回",
    "btn_back": "↩️ 返回",
    "edit_pick": "要修改哪一项？",
    "cancel_confirm": "确定放弃这份报送吗？已填写的内容将被删除。",
    "report_cancelled": "已放弃这份报送。需要时发送 /report 重新开始。",
    "cancel_ask": "要放弃正在填写的报送吗？\n选“保留草稿”可随时发送 /report 继续。",
    "btn_keep_draft": "保留草稿",
    "btn_discard_draft": "放弃草稿",
    "draft_kept": "草稿已保存。发送 /report 可以继续填写。",
    "submitted": (
        "🎉 已提交！报送编号 <b>{ref}</b>\n已报送至{district}科协。如需修改或撤回，发送 /mine。"
    ),
    "submitted_late": "\n⚠️ 本次报送逾期 {days} 天。",
    "incomplete": "还有未填写的项目：{fields}。",
    "status_draft": "草稿",
    "status_submitted": "已提交",
    "status_withdrawn": "已撤回",
    "status_cancelled": "已放弃",
    # mine
    "mine_empty": "本单位还没有已提交的报送。发送 /report 报送第一项活动。",
    "mine_title": "<b>本单位的报送</b>（共 {total} 项，第 {page}/{pages} 页）",
    "mine_item": "{date} · {name} · {status}{late}",
    "mine_item_late": " · 逾期",
    "btn_prev": "◀ 上一页",
    "btn_next": "下一页 ▶",
    "btn_withdraw": "↩️ 撤回",
    "btn_resubmit": "📤 重新提交",
    "btn_done_editing": "✅ 修改完成",
    "withdraw_confirm": "确定撤回报送 {ref} 吗？撤回后不会计入统计表，之后仍可重新提交。",
    "btn_withdraw_yes": "确认撤回",
    "withdrawn": "已撤回报送 {ref}。",
    "resubmitted": "已重新提交报送 {ref}。",
    "amend_locked": "{year}年度的报送已于 {deadline} 截止，不能再修改或撤回。",
    "amend_saved": "修改已保存（修改记录已留存）。",
    "amend_done": "修改完成。",
    "not_found_or_denied": "找不到这条报送，或者您没有权限查看。",
    # --- scheduler ---
    # deliveries to district (and opted-in city) admins
    "sch_head_report_submitted": "📥 <b>新报送 {ref}</b> · {district}\n{org}",
    "sch_head_report_resubmitted": "📤 <b>重新提交 {ref}</b> · {district}\n{org}",
    "sch_head_report_edited": "✏️ <b>报送已修改 {ref}</b> · {district}\n{org}",
    "sch_head_report_withdrawn": "↩️ <b>报送已撤回 {ref}</b> · {district}\n{org}\n撤回的报送不计入统计表。",
    "sch_changes": "<b>修改内容</b>",
    "sch_changes_none": "（改回了原来的内容）",
    "sch_evidence_total": "共 {n} 个",
    "sch_change_line": "• {field}：{old} → {new}",
    "sch_album_caption": "{ref} · {name} · 佐证照片",
    # drafts and plans
    "sch_draft_morning": "⏰ 您的报送草稿<b>{name}</b>（活动日期 {date}）还没有提交。报送期限<b>今天24:00</b>截止，点“继续”接着填写。",
    "sch_draft_closing": "⏰ 还剩几个小时：草稿<b>{name}</b>（活动日期 {date}）的报送期限今天24:00截止，现在提交仍算按时。",
    "sch_btn_resume": "继续",
    "sch_plan_ask": "📝 您计划于 {date} 举办的活动<b>{name}</b>举办了吗？点“报送这项活动”即可报送，名称和日期已替您填好。",
    "sch_plan_last_call": "⏰ 今天是活动<b>{name}</b>（{date}）报送期限的最后一天，24:00截止。",
    "sch_plan_missed": "ℹ️ {who} 计划于 {date} 举办的活动<b>{name}</b>（{org}）报送期限已于 {closed} 截止，尚未报送。如已举办，仍可补报（将标记为逾期）。",
    "sch_btn_report_plan": "📝 报送这项活动",
    "sch_btn_not_held": "没有举办，取消计划",
    # quiet associations
    "sch_nudge": "👋 {org} 已经 {days} 天没有报送活动了。最近举办过活动吗？活动结束后3日内报送即可。",
    "sch_btn_mute_nudges": "不再提醒",
    # the annual deadline
    "sch_deadline": (
        "📅 {year}年度报表将于<b>{deadline}</b>截止（还有 {days} 天）。\n"
        "<b>{district}</b>本年度情况：\n"
        "• 科协 {orgs} 个（企业科协 {enterprises}，产业功能区科协 {zones}）\n"
        "• 已报送活动 {reports} 项，其中逾期 {late} 项\n"
        "• 本年度尚未报送活动的科协 {silent} 个\n"
        "• 登记信息不完整的科协 {incomplete} 个\n"
        "请督促补报、补全后导出附件1-1、1-2、1-3。"
    ),
    "sch_btn_export": "📤 导出",
    "sch_city_summary": (
        "📊 <b>全市{year}年度报送周报</b>（{date}，年度报表 {deadline} 截止）\n"
        "全市：科协 {orgs} 个，已报送活动 {reports} 项（逾期 {late} 项），本年度未报送的科协 {silent} 个。\n\n"
        "{lines}"
    ),
    "sch_city_line": "• {district}：{reports} 项（逾期 {late}），未报送 {silent}/{orgs}",
    "sch_city_empty": "（暂无登记的科协）",
    # /plan
    "plan_intro": "<b>登记计划开展的活动</b>\n登记后，活动日的第二天上午我会提醒您报送，报送期限最后一天再提醒一次。",
    "plan_upcoming": "已登记的计划：\n{items}",
    "plan_item": "• {date} · {name}",
    "plan_pick_org": "为哪个科协登记计划？",
    "plan_ask_name": "活动名称是什么？（不超过{limit}字）",
    "plan_ask_date": "计划哪天举办？可以点按钮，或输入日期，例如 <code>2021-11-20</code>、<code>11月20日</code>。",
    "plan_btn_today": "今天 {md}",
    "plan_btn_tomorrow": "明天 {md}",
    "plan_btn_after": "后天 {md}",
    "plan_date_unreadable": "无法识别这个日期。请写成 <code>2021-11-20</code> 或 <code>11月20日</code>，或者“今天”“明天”“后天”。",
    "plan_date_past": "这个日期已经过去了，请填写今天或以后的日期。已经举办的活动请发送 /report 直接报送。",
    "plan_date_too_far": "只能登记一年以内的计划。",
    "plan_saved": "✅ 已登记：<b>{name}</b>（{date}）。\n活动日的第二天上午我会提醒您报送。",
    "plan_btn_cancel": "取消：{name}",
    "plan_cancelled": "已取消计划：{name}。",
    "plan_gone": "这项计划已取消或不存在。",
    "plan_already_reported": "这项活动已经报送过了。发送 /mine 可以查看。",
    "plan_not_yet": "活动日（{date}）还没到，活动结束后再报送。",
    "report_prefilled": "已为您填好：<b>{name}</b>（{date}）。",
    # /settings
    "settings_title": "<b>提醒与语言设置</b>",
    "settings_lang_line": "语言：{lang}",
    "settings_nudges_line": "长期未报送提醒：{state}",
    "settings_summary_line": "全市周报（年度截止月每周一）：{state}",
    "settings_delivery_line": "接收全市各科协的报送（卡片和照片）：{state}",
    "settings_essential": "报送期限提醒和年度报表截止提醒是必要通知，不能关闭。",
    "settings_on": "开",
    "settings_off": "关",
    "settings_btn_nudges_on": "🔔 开启未报送提醒",
    "settings_btn_nudges_off": "🔕 关闭未报送提醒",
    "settings_btn_summary_on": "🔔 开启全市周报",
    "settings_btn_summary_off": "🔕 关闭全市周报",
    "settings_btn_delivery_on": "📥 接收全市报送",
    "settings_btn_delivery_off": "📭 不接收全市报送",
    "settings_saved": "已保存。",
    "lang_name_zh": "中文",
    "lang_name_en": "English",
    # --- end scheduler ---
    # --- export ---
    "export_choose_annex": "<b>导出统计表</b>\n请选择要导出的附件：",
    "btn_export_13": "附件1-3 工作情况统计表（含佐证材料）",
    "btn_export_11": "附件1-1 企业科协",
    "btn_export_12": "附件1-2 功能区科协",
    "btn_export_all": "全部三个附件",
    "btn_export_cancel": "取消",
    "btn_export_year_current": "{year}年（本年度）",
    "btn_export_year": "{year}年",
    "btn_export_city": "全市（每个区县一张表，另加汇总表）",
    "export_annex_13": "附件1-3",
    "export_annex_11": "附件1-1",
    "export_annex_12": "附件1-2",
    "export_annex_all": "附件1-1、1-2、1-3",
    "export_choose_year": "<b>{annex}</b>：请选择年度（更早的年度可直接输入，例如 2021）：",
    "export_choose_where": "<b>{annex}</b>，{year}年：请选择区（市）县，或导出全市：",
    "export_where_city": "全市",
    "export_heading": "{annex}（{where}，{year}年）",
    "export_progress": "⏳ 正在导出 <b>{heading}</b>\n{step}",
    "export_step_reading": "正在读取数据…",
    "export_step_writing": "正在生成表格…",
    "export_step_rows": "正在生成表格：{done}/{total} 行",
    "export_step_bundle": "正在打包佐证材料：{done}/{total} 项活动",
    "export_step_sending": "正在发送文件 {done}/{total}…",
    "export_done": "✅ <b>{heading}</b> 已导出：\n{files}\n\n活动 {activities} 项，企业科协 {enterprises} 个，功能区科协 {zones} 个。",
    "export_file_line": "• {name}（{size}）",
    "export_parts_hint": "佐证材料分成了 {parts} 个分卷（每个都是完整的压缩包）。请把所有分卷解压到同一个文件夹，表中“附件”链接才能打开对应的文件夹。",
    "export_missing": "注意：有 {count} 个佐证文件在服务器上找不到，没有放进压缩包。",
    "export_too_big": "{name} 超过 50 MB，无法通过 Telegram 发送，请联系管理员用命令行导出。",
    "export_failed": "抱歉，导出失败了，已记录。请稍后再试。",
    "export_busy": "您已有一个导出正在进行，请等它完成后再试。",
    "export_cancelled": "已取消导出。",
    "export_use_buttons": "请点上面消息里的按钮选择；发送 /cancel 可取消导出。",
    "export_interrupted": "⚠️ 您之前的导出（{annex}，{year}年）因机器人重启而中断，没有完成。请重新发送 /export 再导出一次。",
    # --- end export ---
    # --- chase (issue 12) ---
    "chase_head": "<b>{district} · 催报</b>\n按未报送天数排列，从未报送的在前：",
    "chase_line_never": "{n}. {name}：从未报送 · 名册完整度 {complete}%",
    "chase_line": "{n}. {name}：最近一次活动 {last}（{days} 天前）· 名册完整度 {complete}%",
    "chase_empty": "{district}还没有科协。",
    "chase_btn_nudge": "提醒 {n}. {name}",
    "chase_btn_all": "全部提醒（{days} 天以上未报送）",
    "chase_btn_confirm": "确定发送",
    "chase_btn_cancel": "取消",
    "chase_all_confirm": "将提醒 {orgs} 个 {days} 天以上未报送的科协，共 {people} 人收到提醒。确定发送吗？",
    "chase_all_none": "没有需要提醒的科协：{days} 天以上未报送的科协都已在 24 小时内提醒过，或者没有这样的科协。",
    "chase_all_done": "已提醒 {orgs} 个科协，共 {people} 人。免打扰时段内的提醒会在早上发出。",
    "chase_all_cancelled": "已取消，没有发送提醒。",
    "chase_sent": "已提醒 {org} 的 {people} 人。免打扰时段内的提醒会在早上发出。",
    "chase_nobody": "{org} 目前没有可以提醒的报送员或管理员。",
    "chase_too_soon": "{org} 已于 {when} 提醒过，24 小时内不再重复提醒。",
    "sch_chase_nudge": "您好！{district}科协提醒：{org} 最近还没有报送活动。如果开展了活动，请在活动结束后 3 日内发送 /report 报送，谢谢！",
    # --- end chase ---
    # --- digest (issue 12) ---
    "settings_digest_line": "报送推送方式：{state}",
    "settings_digest_each": "逐条推送（每条报送到达即推送）",
    "settings_digest_daily": "每日汇总（每天 9:00 汇总昨天的报送）",
    "settings_btn_digest_on": "🗓 改为每日汇总",
    "settings_btn_digest_off": "📨 改为逐条推送",
    "digest_head": "🗓 <b>{district} · {date}的报送汇总</b>（共 {n} 条）\n{lines}\n\n待审核的报送可直接按下面的按钮处理，或发送 /review。",
    "digest_line": "{n}. {ref}「{name}」· {org} · 活动日期 {date} · {state}",
    "sch_return_reminder": "⏰ 您的报送 <b>{ref}</b>「{name}」退回已经 3 天，还没有重新提交。\n退回理由：{reason}\n请按“去修改”更正，改好后按“重新提交”。",
    # --- end digest ---
    # --- charts (issue 12) ---
    "chart_title": "{year}年 {where} 活动报送",
    "chart_months": "每月报送数（横轴为月份，按活动日期）",
    "chart_on_time": "按时",
    "chart_late": "逾期",
    "chart_top_orgs": "报送最多的 {n} 个科协",
    "chart_districts": "各区（市）县报送数",
    "chart_month_names": "1,2,3,4,5,6,7,8,9,10,11,12",
    "chart_city": "成都市",
    # --- end charts ---
    # --- review (审核, issue 12) ---
    "cmd_review": "审核待处理的报送",
    "review_label_state": "审核状态",
    "review_state_pending": "待审核",
    "review_state_approved": "已通过",
    "review_state_returned": "已退回",
    "review_btn_approve": "✅ 通过",
    "review_btn_return": "↩️ 退回",
    "review_btn_amend": "✏️ 去修改",
    "review_btn_resubmit": "📤 重新提交",
    "review_btn_open": "📋 打开待审核列表",
    "review_btn_approve_page": "✅ 本页全部通过",
    "review_btn_item_approve": "✅ 通过 {ref}",
    "review_btn_item_return": "↩️ 退回 {ref}",
    "sch_head_report_corrected": "🔁 <b>退回后修改并重新提交 {ref}</b> · {district}\n{org}",
    "review_returned_notice": (
        "↩️ 您单位报送的 <b>{ref}</b>「{name}」被{district}科协（{by}）退回。\n"
        "退回理由：{reason}\n"
        "请按“去修改”更正，改好后按“重新提交”。"
    ),
    "review_pending_reminder": "⏳ {district}有 {n} 条报送等待审核已超过 2 天，请发送 /review 处理。",
    "review_deadline_pending": "• 待审核的报送 {n} 项",
    "review_ask_reason": "请输入退回 <b>{ref}</b> 的理由（至少 4 个字），报送人会看到这段话。发送 /cancel 放弃退回。",
    "review_reason_short": "退回理由至少需要 4 个字，请写具体一些，方便报送人更正。",
    "review_reason_long": "退回理由最多 500 个字，请精简后再发送。",
    "review_outcome_approved": "✅ <b>已通过</b> · {by} · {when}",
    "review_outcome_returned": "↩️ <b>已退回</b> · {by} · {when}\n理由：{reason}",
    "review_already": "这条报送已由 {by} 于 {when} 处理：{state}。",
    "review_already_state": "这条报送已不是待审核状态（{state}）。",
    "review_approved_toast": "已通过 {ref}",
    "review_returned_done": "已退回 {ref}，已通知报送人和本科协管理员。",
    "review_return_cancelled": "已放弃退回，{ref} 仍待审核。",
    "review_queue_title": "📋 <b>待审核报送</b>（共 {total} 条，第 {page}/{pages} 页，最早提交的在前）",
    "review_queue_item": "{n}. <b>{ref}</b> {date}「{name}」\n    {org} · 提交于 {submitted}",
    "review_queue_empty": "✅ 目前没有待审核的报送。",
    "review_queue_changed": "列表已有变化，请核对后再按“本页全部通过”。",
    "review_page_approved": "已通过本页 {n} 条报送。",
    "review_resubmit_needs_change": "请先按“去修改”更正至少一项，再重新提交。",
    "review_resubmitted": "已重新提交 {ref}，等待{district}科协审核。",
    "review_not_returned": "这条报送目前不是“已退回”状态，无需重新提交。",
    "dup_warning": (
        "⚠️ 可能与 <b>{ref}</b> 重复：「{name}」（同一科协、同一日期、名称相近）。\n"
        "如果确实是另一项活动，请按“仍然提交”。"
    ),
    "dup_btn_submit": "仍然提交",
    "dup_btn_view": "查看那条",
    "export_btn_approved_off": "☐ 只导出已通过审核的报送（默认含待审核）",
    "export_btn_approved_on": "☑ 只导出已通过审核的报送",
    "review_status_pending": "待审核的报送：{n} 项（发送 /review 处理）",
    # --- end review ---
    # --- console (web/) ---
    "btn_console": "控制台",
    "web_title": "科协报送控制台",
    "web_nav_reports": "报送",
    "web_nav_associations": "协会",
    "web_nav_overview": "概览",
    "web_nav_export": "导出",
    "web_entry_wait": "正在核对你的 Telegram 身份……",
    "web_entry_missing": "请在 Telegram 里按机器人的“控制台”按钮打开本页面。",
    "web_entry_noscript": "控制台需要启用 JavaScript 才能核对身份。",
    "web_logged_out": "已退出控制台。需要时请在 Telegram 里再按“控制台”。",
    "web_error_title": "无法打开（{code}）",
    "web_back_to_reports": "回到报送列表",
    "web_not_found": "找不到这项内容，或它不在你管理的范围内。",
    "web_session_expired": "登录已过期或尚未登录。请回到 Telegram，再按一次“控制台”按钮。",
    "web_admins_only": "控制台只对区（市）县科协和市科协的管理员开放。报送请直接在聊天里使用 /report。",
    "web_csrf": "这个表单已失效（页面停留太久或来自别处）。请刷新页面后重新操作。",
    "web_bad_request": "请求的内容不对，请返回上一页重试。",
    "web_init_refused": "无法核对你的 Telegram 身份（链接可能已超过 1 小时）。请回到 Telegram，再按一次“控制台”按钮。",
    # console: associations (web/associations.py)
    "web_assoc_title": "科协名册",
    "web_assoc_district": "区（市）县",
    "web_assoc_all_districts": "全部",
    "web_assoc_filter": "筛选",
    "web_assoc_count": "共 {total} 个科协",
    "web_assoc_col_name": "名称",
    "web_assoc_col_kind": "类型",
    "web_assoc_col_complete": "名册完整度",
    "web_assoc_col_reports": "今年报送",
    "web_assoc_col_last": "最近一次活动",
    "web_assoc_col_quiet": "催报",
    "web_assoc_never": "从未报送",
    "web_assoc_quiet": "{days} 天以上未报送",
    "web_assoc_not_quiet": "近期有报送",
    "web_assoc_empty": "没有符合条件的科协。",
    "web_assoc_prev": "上一页",
    "web_assoc_next": "下一页",
    "web_assoc_page": "第 {page}/{pages} 页",
    "web_assoc_back": "← 回到科协名册",
    "web_assoc_completeness": "名册信息已填 {filled}/{total} 项",
    "web_assoc_members": "报送员和管理员 {n} 人",
    "web_assoc_year_reports": "今年报送 {n} 条",
    "web_assoc_last": "最近一次活动：{date}",
    "web_assoc_chase": "提醒",
    "web_assoc_chase_hint": "向本科协的报送员和管理员发送催报提醒，与聊天里的 /chase 相同；24 小时内只提醒一次。",
    "web_assoc_last_chase": "上次提醒：{when}",
    "web_assoc_fields": "名册信息",
    "web_assoc_missing": "尚缺：{fields}",
    "web_assoc_all_filled": "名册信息已填写完整。",
    "web_assoc_reports": "最近的报送",
    "web_assoc_col_date": "活动时间",
    "web_assoc_col_report": "活动名称",
    "web_assoc_col_state": "审核",
    "web_assoc_no_reports": "还没有报送。",
    # --- end console ---
}
