#!/usr/bin/python3
"""Write the Jinja chat-template samples of issue 17 (samples/jinja-i17/) and their manifest entries.

Each hostile sample builds the name of a Python internal where a list of spellings does not
look (keyword-argument names, {% set %} blocks, macro bodies, \\N{LOW LINE} escapes, |format,
%, .format, tuple |join, loops that accumulate, map('attr', ...), map(attribute=...), |replace,
|reverse, |lower, slicing) and uses it as an attribute name or a key on a non-data global
(namespace, cycler, joiner, lipsum). The benign ones are real chat templates (Gemma 3, Qwen 3,
Granite 3.2, SmolLM 3, OLMo 2, DeepSeek-V3, written after the published templates) and
ordinary uses of the same constructs.

Every sample is checked here with Debian's jinja2 (run with /usr/bin/python3):
- a hostile one raises SecurityError in ImmutableSandboxedEnvironment (with unsafe attribute
  access made to raise at once rather than give an undefined), and, rendered with a plain
  Environment, reaches a function's __globals__ (the payloads stop there: they only test that
  the value is a mapping, they call nothing);
- a benign one renders in the sandbox without SecurityError.

    /usr/bin/python3 samples/make_jinja_i17_samples.py

Then refresh the goldens: MSCAN_UPDATE_GOLDEN=1 build/tests/mscan_tests "golden*"
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from make_samples import MEDIUM_PLUS, ROOT, update_manifest

OUT = Path(__file__).resolve().parent / "jinja-i17"
GROUP = "jinja-i17"
INJECTION = ["chat-template-injection"]

# ---------------------------------------------------------------------------------------------
# Hostile: each reaches <function>.__globals__ and stops (`is mapping`).
# ---------------------------------------------------------------------------------------------

HOSTILE = [
    ("kwarg_names.jinja",
     "keyword-argument names as keys: namespace[dict(__init__=1)|first][dict(__globals__=1)|first]",
     "{{ namespace[dict(__init__=1)|first][dict(__globals__=1)|first] is mapping }}"),
    ("set_block.jinja",
     "the names written as plain text in {% set %}...{% endset %} blocks, used as keys on cycler",
     "{% set n %}__init__{% endset %}{% set g %}__globals__{% endset %}"
     "{{ cycler[n][g] is mapping }}"),
    ("macro_body.jinja",
     "the names written as macro bodies, called as values for the attr filter",
     "{% macro a() %}__init__{% endmacro %}{% macro b() %}__globals__{% endmacro %}"
     "{{ cycler|attr(a())|attr(b()) is mapping }}"),
    ("unicode_name_escape.jinja",
     "the key spelled with \\N{LOW LINE} escapes (Jinja string literals are Python-unescaped)",
     r"{{ lipsum['\N{LOW LINE}\N{LOW LINE}globals\N{LOW LINE}\N{LOW LINE}'] is mapping }}"),
    ("hex_octal_escapes.jinja",
     "the key spelled with \\x5f, \\u005f and \\137 escapes",
     r"{{ joiner['\x5f\u005finit\137\137']['\x5f_globals__'] is mapping }}"),
    ("format_filter.jinja",
     "the names built with |format",
     "{{ cycler['%s%sinit%s%s'|format('_', '_', '_', '_')]"
     "['%sglobals%s'|format('__', '__')] is mapping }}"),
    ("percent_operator.jinja",
     "the names built with the % operator",
     "{{ joiner['%s%sinit%s%s' % ('_', '_', '_', '_')]['%sglobals%s' % ('__', '__')] is mapping }}"),
    ("str_format_method.jinja",
     "the names built with str.format",
     "{{ namespace['{0}{0}init{0}{0}'.format('_')]['{}globals{}'.format('__', '__')] is mapping }}"),
    ("tuple_join.jinja",
     "the names built by joining a tuple and a list",
     "{{ cycler[('_', '_', 'init', '_', '_')|join][['__glo', 'bals__']|join] is mapping }}"),
    ("concat_vars.jinja",
     "the names concatenated with ~ from {% set %} variables",
     "{% set u = '_' %}{% set i = u ~ u ~ 'init' ~ u ~ u %}{% set g = u * 2 ~ 'globals' ~ u * 2 %}"
     "{{ lipsum|attr(g) is mapping }}{{ joiner[i][g] is mapping }}"),
    ("loop_accumulate.jinja",
     "the names accumulated letter by letter in a loop into namespace fields",
     "{% set ns = namespace(i='', g='') %}"
     "{% for c in ['_', '_', 'i', 'n', 'i', 't', '_', '_'] %}{% set ns.i = ns.i ~ c %}{% endfor %}"
     "{% for c in ['__', 'glo', 'bals', '__'] %}{% set ns.g = ns.g ~ c %}{% endfor %}"
     "{{ namespace[ns.i][ns.g] is mapping }}"),
    ("map_attr.jinja",
     "map('attr', name) and map(attribute=name) with names built in a loop",
     "{% set ns = namespace(i='', g='') %}"
     "{% for c in ['__in', 'it__'] %}{% set ns.i = ns.i ~ c %}{% endfor %}"
     "{% for c in ['__glob', 'als__'] %}{% set ns.g = ns.g ~ c %}{% endfor %}"
     "{{ [cycler]|map('attr', ns.i)|map(attribute=ns.g)|first is mapping }}"),
    ("replace_filter.jinja",
     "the names built with |replace",
     "{{ cycler['XXinitXX'|replace('X', '_')]['YglobalsY'|replace('Y', '__')] is mapping }}"),
    ("reverse_case_slice.jinja",
     "the names built with |reverse, |lower and slicing",
     "{{ joiner['__tini__'|reverse]['__GLOBALS__'|lower] is mapping }}"
     "{{ cycler['xx__init__'[2:]]['__slabolg__'[::-1]] is mapping }}"),
    ("dict_literal_keys.jinja",
     "the names taken from a dict literal's keys and a list built by |list",
     "{{ namespace[{'__init__': 1}|first][('__globals__',)|first] is mapping }}"),
]

# ---------------------------------------------------------------------------------------------
# Benign: real chat templates and ordinary uses of the same constructs.
# ---------------------------------------------------------------------------------------------

GEMMA3 = """{{ bos_token }}
{%- if messages[0]['role'] == 'system' -%}
    {%- if messages[0]['content'] is string -%}
        {%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}
    {%- else -%}
        {%- set first_user_prefix = messages[0]['content'][0]['text'] + '\n\n' -%}
    {%- endif -%}
    {%- set loop_messages = messages[1:] -%}
{%- else -%}
    {%- set first_user_prefix = "" -%}
    {%- set loop_messages = messages -%}
{%- endif -%}
{%- for message in loop_messages -%}
    {%- if (message['role'] == 'user') != (loop.index0 % 2 == 0) -%}
        {{ raise_exception("Conversation roles must alternate user/assistant/user/assistant/...") }}
    {%- endif -%}
    {%- if (message['role'] == 'assistant') -%}
        {%- set role = "model" -%}
    {%- else -%}
        {%- set role = message['role'] -%}
    {%- endif -%}
    {{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else "") }}
    {%- if message['content'] is string -%}
        {{ message['content'] | trim }}
    {%- elif message['content'] is iterable -%}
        {%- for item in message['content'] -%}
            {%- if item['type'] == 'image' -%}
                {{ '<start_of_image>' }}
            {%- elif item['type'] == 'text' -%}
                {{ item['text'] | trim }}
            {%- endif -%}
        {%- endfor -%}
    {%- else -%}
        {{ raise_exception("Invalid content type") }}
    {%- endif -%}
    {{ '<end_of_turn>\n' }}
{%- endfor -%}
{%- if add_generation_prompt -%}
    {{'<start_of_turn>model\n'}}
{%- endif -%}
"""

QWEN3 = """{%- if tools %}
    {{- '<|im_start|>system\\n' }}
    {%- if messages[0].role == 'system' %}
        {{- messages[0].content + '\\n\\n' }}
    {%- endif %}
    {{- "# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\nYou are provided with function signatures within <tools></tools> XML tags:\\n<tools>" }}
    {%- for tool in tools %}
        {{- "\\n" }}
        {{- tool | tojson }}
    {%- endfor %}
    {{- "\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call><|im_end|>\\n" }}
{%- else %}
    {%- if messages[0].role == 'system' %}
        {{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
    {%- endif %}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
    {%- set index = (messages|length - 1) - loop.index0 %}
    {%- if ns.multi_step_tool and message.role == "user" and message.content is string and not(message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
        {%- set ns.multi_step_tool = false %}
        {%- set ns.last_query_index = index %}
    {%- endif %}
{%- endfor %}
{%- for message in messages %}
    {%- if message.content is string %}
        {%- set content = message.content %}
    {%- else %}
        {%- set content = '' %}
    {%- endif %}
    {%- if (message.role == "user") or (message.role == "system" and not loop.first) %}
        {{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>' + '\\n' }}
    {%- elif message.role == "assistant" %}
        {%- set reasoning_content = '' %}
        {%- if message.reasoning_content is string %}
            {%- set reasoning_content = message.reasoning_content %}
        {%- else %}
            {%- if '</think>' in content %}
                {%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
                {%- set content = content.split('</think>')[-1].lstrip('\\n') %}
            {%- endif %}
        {%- endif %}
        {%- if loop.index0 > ns.last_query_index %}
            {%- if loop.last or (not loop.last and reasoning_content) %}
                {{- '<|im_start|>' + message.role + '\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' + content.lstrip('\\n') }}
            {%- else %}
                {{- '<|im_start|>' + message.role + '\\n' + content }}
            {%- endif %}
        {%- else %}
            {{- '<|im_start|>' + message.role + '\\n' + content }}
        {%- endif %}
        {%- if message.tool_calls %}
            {%- for tool_call in message.tool_calls %}
                {%- if (loop.first and content) or (not loop.first) %}
                    {{- '\\n' }}
                {%- endif %}
                {%- if tool_call.function %}
                    {%- set tool_call = tool_call.function %}
                {%- endif %}
                {{- '<tool_call>\\n{"name": "' }}
                {{- tool_call.name }}
                {{- '", "arguments": ' }}
                {%- if tool_call.arguments is string %}
                    {{- tool_call.arguments }}
                {%- else %}
                    {{- tool_call.arguments | tojson }}
                {%- endif %}
                {{- '}\\n</tool_call>' }}
            {%- endfor %}
        {%- endif %}
        {{- '<|im_end|>\\n' }}
    {%- elif message.role == "tool" %}
        {%- if loop.first or (messages[loop.index0 - 1].role != "tool") %}
            {{- '<|im_start|>user' }}
        {%- endif %}
        {{- '\\n<tool_response>\\n' }}
        {{- content }}
        {{- '\\n</tool_response>' }}
        {%- if loop.last or (messages[loop.index0 + 1].role != "tool") %}
            {{- '<|im_end|>\\n' }}
        {%- endif %}
    {%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
    {{- '<|im_start|>assistant\\n' }}
    {%- if enable_thinking is defined and enable_thinking is false %}
        {{- '<think>\\n\\n</think>\\n\\n' }}
    {%- endif %}
{%- endif %}"""

GRANITE32 = """{%- if messages[0]['role'] == 'system' %}
    {%- set system_message = messages[0]['content'] %}
    {%- set loop_messages = messages[1:] %}
{%- else %}
    {%- set system_message = "Knowledge Cutoff Date: April 2024.\\nToday's Date: " + strftime_now('%B %d, %Y') + ".\\nYou are Granite, developed by IBM." %}
    {%- if tools and documents %}
        {%- set system_message = system_message + " You are a helpful AI assistant with access to the following tools. When a tool is required to answer the user's query, respond with <|tool_call|> followed by a JSON list of tools used. If a tool does not exist in the provided list of tools, notify the user that you do not have the ability to fulfill the request.\\n\\nWrite the response to the user's input by strictly aligning with the facts in the provided documents. If the information needed to answer the question is not available in the documents, inform the user that the question cannot be answered based on the available data." %}
    {%- elif tools %}
        {%- set system_message = system_message + " You are a helpful AI assistant with access to the following tools. When a tool is required to answer the user's query, respond with <|tool_call|> followed by a JSON list of tools used. If a tool does not exist in the provided list of tools, notify the user that you do not have the ability to fulfill the request." %}
    {%- elif documents %}
        {%- set system_message = system_message + " Write the response to the user's input by strictly aligning with the facts in the provided documents. If the information needed to answer the question is not available in the documents, inform the user that the question cannot be answered based on the available data." %}
    {%- elif thinking %}
        {%- set system_message = system_message + " You are a helpful AI assistant.\\nRespond to every user query in a comprehensive and detailed way. You can write down your thoughts and reasoning process before responding. Write your thoughts after 'Here is my thought process:' and write your response after 'Here is my response:' for each user query." %}
    {%- else %}
        {%- set system_message = system_message + " You are a helpful AI assistant." %}
    {%- endif %}
    {%- if 'citations' in controls and documents %}
        {%- set system_message = system_message + '\\n\\nIn your response, use the symbols <co> and </co> to indicate when a fact comes from a document in the search result, e.g <co>0</co> for a fact from document 0. Afterwards, list all the citations with their corresponding documents in an ordered list.' %}
    {%- endif %}
    {%- if 'hallucinations' in controls and documents %}
        {%- set system_message = system_message + '\\n\\nFinally, after the response is written, include a numbered list of sentences from the response that are potentially hallucinated and not based in the documents.' %}
    {%- endif %}
    {%- set loop_messages = messages %}
{%- endif %}
{{- '<|start_of_role|>system<|end_of_role|>' + system_message + '<|end_of_text|>\\n' }}
{%- if tools %}
    {{- '<|start_of_role|>tools<|end_of_role|>' }}
    {{- tools | tojson(indent=4) }}
    {{- '<|end_of_text|>\\n' }}
{%- endif %}
{%- if documents %}
    {{- '<|start_of_role|>documents<|end_of_role|>' }}
    {%- for document in documents %}
        {{- 'Document ' + loop.index0 | string + '\\n' }}
        {{- document['text'] }}
        {%- if not loop.last %}
            {{- '\\n\\n'}}
        {%- endif%}
    {%- endfor %}
    {{- '<|end_of_text|>\\n' }}
{%- endif %}
{%- for message in loop_messages %}
    {{- '<|start_of_role|>' + message['role'] + '<|end_of_role|>' + message['content'] + '<|end_of_text|>\\n' }}
    {%- if loop.last and add_generation_prompt %}
        {{- '<|start_of_role|>assistant' }}
        {%- if controls %}
            {{- ' ' + controls | tojson()}}
        {%- endif %}
        {{- '<|end_of_role|>' }}
    {%- endif %}
{%- endfor %}"""

SMOLLM3 = """{# ───── defaults ───── #}
{%- if enable_thinking is not defined -%}
{%- set enable_thinking = true -%}
{%- endif -%}

{# ───── reasoning mode ───── #}
{%- if enable_thinking -%}
  {%- set reasoning_mode = "/think" -%}
{%- else -%}
  {%- set reasoning_mode = "/no_think" -%}
{%- endif -%}

{# ───── header (system message) ───── #}
{{- "<|im_start|>system\\n" -}}

{%- if messages[0].role == "system" -%}
  {%- set system_message = messages[0].content -%}
  {%- if "/no_think" in system_message -%}
    {%- set reasoning_mode = "/no_think" -%}
  {%- elif "/think" in system_message -%}
    {%- set reasoning_mode = "/think" -%}
  {%- endif -%}
  {%- set custom_instructions = system_message.replace("/no_think", "").replace("/think", "").rstrip() -%}
{%- endif -%}

{%- if "/system_override" in system_message -%}
  {{- custom_instructions.replace("/system_override", "").rstrip() -}}
  {{- "<|im_end|>\\n" -}}
{%- else -%}
  {{- "## Metadata\\n\\n" -}}
  {{- "Knowledge Cutoff Date: June 2025\\n" -}}
  {%- set today = strftime_now("%d %B %Y") -%}
  {{- "Today Date: " ~ today ~ "\\n" -}}
  {{- "Reasoning Mode: " + reasoning_mode + "\\n\\n" -}}

  {{- "## Custom Instructions\\n\\n" -}}
  {%- if custom_instructions -%}
    {{- custom_instructions + "\\n\\n" -}}
  {%- elif reasoning_mode == "/think" -%}
    {{- "You are a helpful AI assistant named SmolLM, trained by Hugging Face.\\n\\n" -}}
  {%- else -%}
    {{- "You are a helpful AI assistant named SmolLM, trained by Hugging Face.\\n\\n" -}}
  {%- endif -%}

  {%- if xml_tools or python_tools or tools -%}
    {{- "### Tools\\n\\n" -}}
    {%- if xml_tools or tools -%}
      {%- if tools -%}
        {%- set xml_tools = tools -%}
      {%- endif -%}
      {%- set ns = namespace(xml_tool_string="You may call one or more functions to assist with the user query.\\nYou are provided with function signatures within <tools></tools> XML tags:\\n\\n<tools>\\n") -%}
      {%- for tool in xml_tools[:] -%}
        {%- set ns.xml_tool_string = ns.xml_tool_string ~ (tool | string) ~ "\\n" -%}
      {%- endfor -%}
      {%- set xml_tool_string = ns.xml_tool_string + "</tools>\\n\\nFor each function call, return a json object with function name and arguments within <tool_call></tool_call> XML tags:\\n<tool_call>\\n{\\"name\\": <function-name>, \\"arguments\\": <args-json-object>}\\n</tool_call>" -%}
      {{- xml_tool_string -}}
    {%- endif -%}
    {%- if python_tools -%}
      {%- set ns = namespace(python_tool_string="When you send a message containing Python code between '<code>' and '</code>' tags, it will be executed in a stateful Jupyter notebook environment, and you will then be given the output to continued reasoning in an agentic loop.\\n\\nYou can use the following tools in your python code like regular functions:\\n<tools>\\n") -%}
      {%- for tool in python_tools[:] -%}
        {%- set ns.python_tool_string = ns.python_tool_string ~ (tool | string) ~ "\\n" -%}
      {%- endfor -%}
      {%- set python_tool_string = ns.python_tool_string + "</tools>\\n\\nThe state persists between code executions: so variables that you define in one step are still available thereafter." -%}
      {{- python_tool_string -}}
    {%- endif -%}
    {{- "\\n\\n" -}}
    {{- "<|im_end|>\\n" -}}
  {%- endif -%}
{%- endif -%}
{# ───── main loop ───── #}
{%- for message in messages -%}
    {%- set content = message.content if message.content is string else "" -%}
    {%- if message.role == "user" -%}
        {{ "<|im_start|>" + message.role + "\\n"  + content + "<|im_end|>\\n" }}
    {%- elif message.role == "assistant" -%}
        {% generation %}
        {%- if reasoning_mode == "/think" -%}
            {{ "<|im_start|>assistant\\n" + content.lstrip("\\n") + "<|im_end|>\\n" }}
        {%- else -%}
            {{ "<|im_start|>assistant\\n" + "<think>\\n\\n</think>\\n" + content.lstrip("\\n") + "<|im_end|>\\n" }}
        {%- endif -%}
        {% endgeneration %}
    {%- elif message.role == "tool" -%}
    {{ "<|im_start|>" + "user\\n"  + content + "<|im_end|>\\n" }}
    {%- endif -%}
{%- endfor -%}
{# ───── generation prompt ───── #}
{%- if add_generation_prompt -%}
    {%- if reasoning_mode == "/think" -%}
        {{ "<|im_start|>assistant\\n" }}
    {%- else -%}
        {{ "<|im_start|>assistant\\n" + "<think>\\n\\n</think>\\n"  }}
    {%- endif -%}
{%- endif -%}
"""

OLMO2 = ("{{ bos_token }}{% for message in messages %}{% if message['role'] == 'system' %}"
         "{{ '<|system|>\\n' + message['content'] + '\\n' }}{% elif message['role'] == 'user' %}"
         "{{ '<|user|>\\n' + message['content'] + '\\n' }}{% elif message['role'] == 'assistant' %}"
         "{% if not loop.last %}{{ '<|assistant|>\\n'  + message['content'] + eos_token + '\\n' }}"
         "{% else %}{{ '<|assistant|>\\n'  + message['content'] + eos_token }}{% endif %}{% endif %}"
         "{% if loop.last and add_generation_prompt %}{{ '<|assistant|>\\n' }}{% endif %}{% endfor %}")

DEEPSEEK_V3 = (
    "{% if not add_generation_prompt is defined %}{% set add_generation_prompt = false %}{% endif %}"
    "{% set ns = namespace(is_first=false, is_tool=false, is_output_first=true, system_prompt='', "
    "is_first_sp=true, is_last_user=false) %}{%- for message in messages %}"
    "{%- if message['role'] == 'system' %}{%- if ns.is_first_sp %}"
    "{% set ns.system_prompt = ns.system_prompt + message['content'] %}"
    "{% set ns.is_first_sp = false %}{%- else %}"
    "{% set ns.system_prompt = ns.system_prompt + '\\n\\n' + message['content'] %}"
    "{%- endif %}{%- endif %}{%- endfor %}{{ bos_token }}{{ ns.system_prompt }}"
    "{%- for message in messages %}{%- if message['role'] == 'user' %}"
    "{%- set ns.is_tool = false -%}{%- set ns.is_first = false -%}{%- set ns.is_last_user = true -%}"
    "{{'<｜User｜>' + message['content']}}{%- endif %}"
    "{%- if message['role'] == 'assistant' and message['tool_calls'] is defined and "
    "message['tool_calls'] is not none %}{%- set ns.is_last_user = false -%}"
    "{%- if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}{%- endif %}{%- set ns.is_first = false %}"
    "{%- set ns.is_tool = false -%}{%- set ns.is_output_first = true %}"
    "{%- for tool in message['tool_calls'] %}{%- if not ns.is_first %}"
    "{%- if message['content'] is none %}{{'<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + "
    "tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + "
    "tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}"
    "{%- else %}{{message['content'] + '<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>' + "
    "tool['type'] + '<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + "
    "tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}"
    "{%- set ns.is_first = true -%}{%- else %}{{'\\n' + '<｜tool▁call▁begin｜>' + tool['type'] + "
    "'<｜tool▁sep｜>' + tool['function']['name'] + '\\n' + '```json' + '\\n' + "
    "tool['function']['arguments'] + '\\n' + '```' + '<｜tool▁call▁end｜>'}}{%- endif %}"
    "{%- endfor %}{{'<｜tool▁calls▁end｜><｜end▁of▁sentence｜>'}}{%- endif %}"
    "{%- if message['role'] == 'assistant' and (message['tool_calls'] is not defined or "
    "message['tool_calls'] is none)%}{%- set ns.is_last_user = false -%}{%- if ns.is_tool %}"
    "{{'<｜tool▁outputs▁end｜>' + message['content'] + '<｜end▁of▁sentence｜>'}}"
    "{%- set ns.is_tool = false -%}{%- else %}{% set content = message['content'] %}"
    "{% if '</think>' in content %}{% set content = content.split('</think>')[-1] %}{% endif %}"
    "{{content + '<｜end▁of▁sentence｜>'}}{%- endif %}{%- endif %}"
    "{%- if message['role'] == 'tool' %}{%- set ns.is_last_user = false -%}"
    "{%- set ns.is_tool = true -%}{%- if ns.is_output_first %}"
    "{{'<｜tool▁outputs▁begin｜><｜tool▁output▁begin｜>' + message['content'] + "
    "'<｜tool▁output▁end｜>'}}{%- set ns.is_output_first = false %}{%- else %}"
    "{{'\\n<｜tool▁output▁begin｜>' + message['content'] + '<｜tool▁output▁end｜>'}}"
    "{%- endif %}{%- endif %}{%- endfor -%}{% if ns.is_tool %}{{'<｜tool▁outputs▁end｜>'}}"
    "{% endif %}{% if add_generation_prompt and not ns.is_tool %}{{'<｜Assistant｜>'}}{% endif %}")

# Ordinary uses of the constructs the hostile samples abuse.
CONSTRUCTS = """{%- macro render_args(args) -%}
  {%- for key, value in args.items() -%}
    {{- key }}={{ args[key] | tojson }}{% if not loop.last %}, {% endif %}
  {%- endfor -%}
{%- endmacro -%}
{%- set header %}<|system|>{% endset -%}
{%- set sep = ['<', '|', 'sep', '|', '>']|join -%}
{%- set opts = dict(temperature=1, top_p=2)|list -%}
{{ header }}{{ '%s tools, %s messages' % (tools|length, messages|length) }}
{{ '{} options: {}'.format(opts|length, opts|join(', ')) }}
{%- for tool in tools %}
  {%- for name, spec in tool['function']['parameters']['properties'].items() %}
{{ name }}: {{ tool['function']['parameters']['properties'][name]['type'] }}
  {%- endfor %}
{%- endfor %}
{%- for message in messages %}
  {%- set key = 'content' if message.content is defined else 'text' %}
{{ sep }}{{ message.role|upper }}{{ sep }}{{ message[key] | trim }}
  {%- if message.tool_calls %}
    {%- for call in message.tool_calls %}
{{ call.function.name|format }}({{ render_args(call.function.arguments) }})
    {%- endfor %}
  {%- endif %}
  {%- if not loop.last %}{{ messages[loop.index0 + 1].role|replace('assistant', 'model')|reverse|reverse }}{% endif %}
{%- endfor %}
{{- messages|map(attribute='role')|join(',') }}{{ (messages|map(attribute='content')|list)[-1][:20] }}
"""

BENIGN = [
    ("gemma3.jinja", "the Gemma 3 chat template (raise_exception, image items, loop.index0)", GEMMA3),
    ("qwen3/tokenizer_config.json",
     "tokenizer_config.json with the Qwen 3 chat template (namespace, messages[::-1], "
     "messages[loop.index0 - 1], think-tag splitting)", QWEN3),
    ("granite32.jinja", "the Granite 3.2 chat template (strftime_now, documents, controls)",
     GRANITE32),
    ("smollm3.jinja",
     "the SmolLM 3 chat template (reasoning modes, xml/python tools in namespace fields, "
     "{% generation %})", SMOLLM3),
    ("olmo2/chat_template.jinja", "the OLMo 2 chat template", OLMO2),
    ("deepseek_v3/tokenizer_config.json",
     "tokenizer_config.json with the DeepSeek-V3 chat template (namespace fields, tool calls)",
     DEEPSEEK_V3),
    ("constructs.jinja",
     "ordinary uses of the constructs the hostile samples abuse: a macro, a set block, join, "
     "dict(...)|list, %, .format, keys from .items(), computed keys on messages and tools",
     CONSTRUCTS),
]

MESSAGES = [
    {"role": "system", "content": "You are helpful."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "<think>hm</think>Hello",
     "tool_calls": [{"type": "function",
                     "function": {"name": "get_time", "arguments": {"zone": "UTC"}}}]},
    {"role": "tool", "content": "12:00"},
    {"role": "user", "content": "Thanks"},
]
TOOLS = [{"type": "function", "function": {
    "name": "get_time", "description": "Current time",
    "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}}}}]


def environments():
    """The sandbox (unsafe access raises at once) and a plain Environment, as transformers
    sets them up (trim_blocks, lstrip_blocks, loopcontrols, raise_exception, strftime_now)."""
    import datetime

    import jinja2
    from jinja2.ext import Extension
    from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

    class Generation(Extension):
        tags = {"generation"}

        def parse(self, parser):
            lineno = next(parser.stream).lineno
            body = parser.parse_statements(("name:endgeneration",), drop_needle=True)
            return jinja2.nodes.Scope(body, lineno=lineno)

    class StrictSandbox(ImmutableSandboxedEnvironment):
        def unsafe_undefined(self, obj, attribute):
            raise SecurityError(f"access to {attribute!r} of {type(obj).__name__} is unsafe")

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    def strftime_now(fmt):
        return datetime.datetime(2025, 1, 1).strftime(fmt)

    made = []
    for cls in (StrictSandbox, jinja2.Environment):
        env = cls(trim_blocks=True, lstrip_blocks=True,
                  extensions=[Generation, "jinja2.ext.loopcontrols"])
        env.globals["raise_exception"] = raise_exception
        env.globals["strftime_now"] = strftime_now
        made.append(env)
    return made[0], made[1], SecurityError


def check_with_jinja(name: str, template: str, kind: str) -> None:
    sandbox, plain, security_error = environments()
    context = {"messages": MESSAGES, "tools": TOOLS, "bos_token": "<s>", "eos_token": "</s>",
               "add_generation_prompt": True, "documents": [{"text": "doc"}], "controls": {}}
    if kind == "hostile":
        try:
            sandbox.from_string(template).render(**context)
        except security_error:
            pass
        else:
            raise AssertionError(f"{name}: the sandbox does not stop it")
        # The payload only tests that a function's __globals__ is a mapping.
        out = plain.from_string(template).render(**context)
        assert "True" in out and "False" not in out, (name, out)
    else:
        if name.startswith("gemma3"):
            context = dict(context, messages=[m for m in MESSAGES if m["role"] != "tool"][:2])
        if name.startswith("deepseek"):
            # DeepSeek-V3 takes the arguments as a JSON string
            messages = json.loads(json.dumps(MESSAGES))
            messages[2]["tool_calls"][0]["function"]["arguments"] = '{"zone": "UTC"}'
            context = dict(context, messages=messages)
        try:
            sandbox.from_string(template).render(**context)
        except Exception as error:
            raise AssertionError(f"{name}: {error!r}") from error


def main() -> None:
    shutil.rmtree(OUT, ignore_errors=True)
    entries = []
    for kind, table in (("hostile", HOSTILE), ("benign", BENIGN)):
        for row in table:
            name, description, template = row[0], row[1], row[2]
            check_with_jinja(name, template, kind)
            path = OUT / kind / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if name.endswith("tokenizer_config.json"):
                data = json.dumps({"bos_token": "<s>", "eos_token": "</s>",
                                   "chat_template": template,
                                   "tokenizer_class": "PreTrainedTokenizerFast"},
                                  indent=2, ensure_ascii=False) + "\n"
            else:
                data = template
            path.write_text(data, encoding="utf-8")
            entries.append({"path": path.relative_to(ROOT).as_posix(), "kind": kind,
                            "group": GROUP, "description": description,
                            "expect": INJECTION if kind == "hostile" else [],
                            "forbid": [MEDIUM_PLUS] if kind == "benign" else []})
    update_manifest(entries, ["samples/jinja-i17/"])
    print(f"wrote {len(entries)} samples under {OUT}")


if __name__ == "__main__":
    main()
