"""简体中文文案（主语言）。HTML 格式；参数在 bot.texts.t 中统一转义。"""

TEXTS: dict[str, str] = {
    # --- common ---
    "yes": "是",
    "no": "否",
    "unknown_command": "没有这个命令。发送 /help 查看可以做什么。",
    "error_generic": "抱歉，处理时出了问题，已记录。您的已填内容都已保存，请稍后再试。",
    "button_expired": "这个按钮已失效，请看最新的消息。",
    "not_allowed": "您没有权限进行这个操作。",
    "stranger": (
        "您好！这个机器人供成都市企业科协、产业功能区科协报送活动信息使用。\n\n"
        "您还不是任何科协的成员。请联系所在区（市）县科协或本单位科协管理员，"
        "索取邀请链接，点开链接即可加入。"
    ),
    "cancelled_nothing": "当前没有进行中的操作。",
    "flow_left": "已退出当前操作。",
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
    "joined_already": "您已经是 {what}，无需重复加入。",
    "role_line": "• {role}：{scope}",
    "role_reporter": "报送员",
    "role_org_admin": "科协管理员",
    "role_district_admin": "区（市）县科协管理员",
    "role_city_admin": "市科协管理员",
    "scope_city": "成都市（全市）",
    "invite_unknown": "这个邀请链接无效。请向发给您链接的管理员重新索取。",
    "invite_expired": "这个邀请链接已过期。请向管理员索取新的链接。",
    "invite_used_up": "这个邀请链接的使用次数已用完。请向管理员索取新的链接。",
    "invite_revoked": "这个邀请链接已被撤销。请向管理员索取新的链接。",
    # --- help ---
    "help": (
        "<b>使用帮助</b>\n\n"
        "📝 /report 报送一项活动：按提示依次填写时间、名称、内容、主办/协办/承办、参与人数、"
        "取得成效，再上传照片或签到表等佐证材料，最后核对并提交。\n"
        "⏰ 请在活动结束后<b>3日内</b>报送；超过期限仍可报送，但会标记为“逾期”。\n"
        "💾 每一步都会自动保存，中途退出或断网都不会丢失，再发 /report 可继续。\n"
        "📋 /mine 查看本单位的报送，可修改或撤回（截止每年{deadline}）。\n"
        "✖️ /cancel 随时退出当前操作。\n\n"
        "日期可以这样写：2021-11-03、2021/11/3、11月3日、11.3、今天、昨天、前天。\n"
        "人数可以写：50、50人、约50人。"
    ),
    "help_admin": (
        "\n\n<b>管理员</b>\n"
        "/invite 生成邀请链接 · /invites 管理邀请 · /members 成员\n"
        "/org 科协登记信息 · /district 区县年度数据 · /status 报送情况\n"
        "/export 导出附件1-1、1-2、1-3"
    ),
    # --- report flow ---
    "report_pick_org": "您在多个科协任职。这次为哪个科协报送？",
    "report_no_org": (
        "您目前不能为任何科协报送活动。请联系本单位科协管理员或区（市）县科协，索取报送员邀请链接。"
    ),
    "report_draft_exists": (
        "您有一份未完成的报送草稿：\n<b>{name}</b>（已填 {done}/7 项）\n\n继续填写，还是重新开始？"
    ),
    "report_resume": "继续填写",
    "report_restart": "重新开始",
    "report_untitled": "（未命名）",
    "report_started": "开始报送 · {org}\n随时发送 /cancel 退出，已填内容会保存。",
    "ask_date": (
        "<b>第1步/共7步 · 时间</b>\n活动是哪天举办的？\n"
        "可以直接点下面的按钮，或输入日期，例如 <code>2021-11-03</code>、<code>11月3日</code>。"
    ),
    "btn_today": "今天 {md}",
    "btn_yesterday": "昨天 {md}",
    "btn_day_before": "前天 {md}",
    "date_unreadable": (
        "没有看懂这个日期。请写成 <code>2021-11-03</code>、<code>11月3日</code>、<code>11.3</code>，"
        "或者“今天”“昨天”“前天”。"
    ),
    "date_invalid": "这个日期不存在（比如2月30日），请检查月份和日期。",
    "date_future": "活动日期不能晚于今天——活动结束后才能报送。请输入已经举办的活动日期。",
    "date_too_old": "日期太早了，请检查年份。",
    "date_late_warning": (
        "⚠️ 这项活动的报送期限（活动后3日内）已于 {closed} 截止。仍可以报送，但会标记为<b>逾期</b>。"
    ),
    "date_window_ok": "✅ 请在 {closes} 前提交，届时报送期限截止。",
    "ask_name": "<b>第2步/共7步 · 服务（活动）名称</b>\n请输入活动名称（不超过{limit}字）。",
    "ask_content": (
        "<b>第3步/共7步 · 服务（活动）内容</b>\n请简要介绍活动内容：做了什么、面向谁、在哪里。"
    ),
    "ask_role": "<b>第4步/共7步 · 主办/协办/承办</b>\n本科协在活动中的角色是？",
    "ask_headcount": "<b>第5步/共7步 · 参与人数</b>\n有多少人参加？请输入数字，例如 <code>50</code>。",
    "ask_outcome": (
        "<b>第6步/共7步 · 取得成效</b>\n活动取得了哪些成效？例如达成合作、解决问题、服务企业数量等。"
    ),
    "ask_evidence": (
        "<b>第7步/共7步 · 佐证材料</b>\n请发送活动照片（至少1张，可一次选多张），"
        "也可以发送签到表等文件（PDF、Word、Excel、图片，单个不超过20MB）。\n"
        "发送完毕后点“完成”。"
    ),
    "ask_evidence_more": "已有 {count} 个文件。可以继续发送，发完点“完成”。",
    "text_empty": "内容不能为空，请重新输入。",
    "text_too_long": "内容太长了（{length}字），请精简到{limit}字以内。",
    "role_invalid": "请点击下面的按钮选择：主办、协办或承办。",
    "headcount_unreadable": "请输入参与人数，例如 <code>50</code> 或 <code>约50人</code>。",
    "headcount_not_positive": "参与人数应为大于0的整数。",
    "headcount_too_large": "人数太大了，请核对后重新输入。",
    "expect_text": "这一步需要输入文字。",
    "expect_button_or_text": "请点击按钮或输入文字。",
    "evidence_not_now": "现在还不需要上传文件，请先完成当前这一步。",
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
    "kind_other": "这类消息",
    "evidence_need_photo": "至少需要1张活动照片。请先发送照片再点“完成”。",
    "evidence_download_failed": "文件下载失败，请重新发送一次。",
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
    "headcount_value": "{n}人",
    "btn_submit": "✅ 提交",
    "btn_edit": "✏️ 修改",
    "btn_cancel": "✖️ 取消",
    "btn_cancel_yes": "确认放弃",
    "btn_cancel_no": "返回",
    "btn_back": "↩️ 返回",
    "edit_pick": "要修改哪一项？",
    "cancel_confirm": "确定放弃这份报送吗？已填写的内容将被丢弃。",
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
    "amend_saved": "已保存修改（已记录修改记录）。",
    "amend_done": "修改完成。",
    "not_found_or_denied": "找不到这条报送，或者您没有权限查看。",
}
