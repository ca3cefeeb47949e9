"""The OpenAPI 3 document of /api/v1; a test checks it against the routes, both ways."""
from app.scales import SCALES
from models import LEVELS

ERROR = {"$ref": "#/components/schemas/Error"}


def _json(schema, description="成功"):
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*codes):
    text = {400: "请求体不是 JSON 对象，或含有无法保存的字符（NUL、单独的代理码位）",
            401: "缺少或无效的 API 令牌", 404: "没有找到",
            409: "这个办件编号已经评价过（一次一评）",
            422: "输入有误，fields 说明每一项", 429: "太频繁，请稍后再试"}
    return {str(c): _json(ERROR, text[c]) for c in codes}


def _list(properties):
    return {"type": "array", "items": {"type": "object", "properties": properties}}


INT, STR = {"type": "integer"}, {"type": "string"}
NULLABLE_STR = {"type": "string", "nullable": True}


def document():
    return {
        "openapi": "3.0.3",
        "info": {"title": "直通车开放接口", "version": "1",
                 "description": "一体机、微信小程序、12345 热线平台接入用。错误返回 {error: {code, message, fields}}。"},
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {"type": "object", "properties": {"error": {"type": "object", "properties": {
                "code": STR, "message": STR, "fields": {"type": "object"}}}}}},
        },
        "paths": {
            "/units": {"get": {"summary": "在用单位", "responses": {"200": _json(_list(
                {"id": INT, "code": STR, "name": STR, "kind": STR, "parent_id": {"type": "integer", "nullable": True}}))}}},
            "/windows": {"get": {"summary": "在用窗口", "parameters": [
                {"name": "unit", "in": "query", "schema": INT}],
                "responses": {"200": _json(_list({"id": INT, "number": STR, "name": STR, "unit_id": INT,
                                                  "token": STR}))}}},
            "/staff": {"get": {"summary": "在岗工作人员", "parameters": [
                {"name": "window", "in": "query", "schema": INT}],
                "responses": {"200": _json(_list({"id": INT, "number": STR, "name": STR, "unit_id": INT,
                                                  "window_id": {"type": "integer", "nullable": True},
                                                  "token": STR}))}}},
            "/reasons": {"get": {"summary": "评价原因标签（levels：随哪些等级出现）", "responses": {"200": _json(_list(
                {"id": INT, "title": STR, "levels": {"type": "array", "items": STR}}))}}},
            "/scale": {"get": {"summary": "本县使用的评价等级（三级或国家好差评五级）", "responses": {"200": _json({
                "type": "object", "properties": {
                    "key": {"type": "string", "enum": sorted(SCALES)}, "case_number": {"type": "boolean"},
                    "levels": _list({"id": STR, "title": STR, "grade": {"type": "string", "enum": ["good", "neutral", "bad"]},
                                     "tags": {"type": "boolean"}, "tags_required": {"type": "boolean"}})}})}}},
            "/evaluations": {"post": {
                "summary": "提交评价（同一 submission_key 只记一次）",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["token", "level", "submission_key"],
                    "properties": {"token": STR, "level": {"type": "string", "enum": [k for k, _ in LEVELS]},
                                   "reasons": {"type": "array", "items": INT}, "comment": STR, "phone": STR,
                                   "channel": {"type": "string", "enum": ["kiosk", "qr"]},
                                   "submission_key": {"type": "string", "pattern": "^[0-9a-f]{32}$"},
                                   "staff_id": INT,
                                   "case_number": {"type": "string", "description": "办件编号：一件事只评一次"}}}}}},
                "responses": {"201": _json({"type": "object", "properties": {
                    "id": INT, "created": {"type": "boolean"}, "ticket": NULLABLE_STR,
                    "query_code": dict(NULLABLE_STR, description="评价转为问题办理时的查询码，凭它在 /track 查进度")}},
                    "已记录"),
                              "200": _json({"type": "object"}, "重复提交，按第一次记录"),
                              **_errors(400, 409, 422, 429)}}},
            "/messages": {"post": {
                "summary": "留言（返回查询码）",
                "requestBody": {"required": True, "content": {"application/json": {"schema": {
                    "type": "object", "required": ["kind", "content"],
                    "properties": {"kind": {"type": "string", "enum": ["opinion", "suggestion", "appeal", "consultation",
                                                                       "complaint", "report"]},
                                   "unit_id": {"type": "integer", "nullable": True}, "content": STR,
                                   "name": STR, "phone": STR}}}}},
                "responses": {"201": _json({"type": "object", "properties": {"query_code": STR}}, "已收到"),
                              **_errors(400, 422, 429)}}},
            "/track": {"get": {
                "summary": "凭查询码查进度（实名留言还需电话后四位）",
                "parameters": [{"name": "code", "in": "query", "required": True, "schema": STR},
                               {"name": "last4", "in": "query", "schema": STR}],
                "responses": {"200": _json({"type": "object", "properties": {
                    "status": STR, "stage": STR, "received": STR, "due": NULLABLE_STR, "closed": NULLABLE_STR,
                    "answer": dict(NULLABLE_STR, description="答复群众（公开的答复，不含内部办理结果）"),
                    "answered_by": dict(NULLABLE_STR, description="答复单位"),
                    "answered_on": NULLABLE_STR}}), **_errors(404, 429)}}},
            "/todo": {"get": {
                "summary": "令牌所属干部的待办工单", "security": [{"bearer": []}],
                "responses": {"200": _json(_list({"code": STR, "title": STR, "stage": STR, "workflow": STR,
                                                  "due": NULLABLE_STR})), **_errors(401)}}},
            "/openapi.json": {"get": {"summary": "本文档", "responses": {"200": _json({"type": "object"})}}},
        },
    }
