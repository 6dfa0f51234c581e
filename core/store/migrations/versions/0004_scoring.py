"""scoring: case_facts (indicator facts in SQL), appeals (申诉), score_inputs (satisfaction surveys, 条块 ratings)

Existing cases are backfilled: one case_facts row per fact listed in each transition's ``data.facts`` and one
应结案 row per handle deadline, so indicators over history stay right after the upgrade.

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa


revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('case_facts',
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('seq', sa.Integer(), nullable=False),
    sa.Column('fact', sa.String(length=32), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('unit_code', sa.String(length=64), nullable=False),
    sa.Column('handler_unit', sa.String(length=64), nullable=True),
    sa.Column('lead', sa.String(length=128), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=True),
    sa.Column('reporter', sa.String(length=128), nullable=True),
    sa.Column('event_class', sa.String(length=64), nullable=True),
    sa.Column('ref_class', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=64), nullable=True),
    sa.Column('zone', sa.String(length=4), nullable=True),
    sa.Column('reported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('closed_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['tenant', 'case_id'], ['cases.tenant', 'cases.id'], name=op.f('fk_case_facts_cases')),
    sa.PrimaryKeyConstraint('tenant', 'case_id', 'seq', 'fact', name=op.f('pk_case_facts'))
    )
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_facts_tenant_fact_at_unit_code_case_id'),
                              ['tenant', 'fact', 'at', 'unit_code', 'case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_facts_tenant_fact_lead_at'), ['tenant', 'fact', 'lead', 'at'],
                              unique=False)
    op.create_table('appeals',
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('case_id', sa.String(length=36), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('add_facts', sa.JSON(), nullable=False),
    sa.Column('remove_facts', sa.JSON(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('by', sa.String(length=128), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'id', name=op.f('pk_appeals'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_appeals_tenant_case_id'), ['tenant', 'case_id'], unique=False)
    op.create_table('score_inputs',
    sa.Column('tenant', sa.String(length=64), nullable=False),
    sa.Column('period', sa.String(length=32), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('subject', sa.String(length=128), nullable=False),
    sa.Column('rater', sa.String(length=128), nullable=False),
    sa.Column('value', sa.Float(), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('imported_by', sa.String(length=128), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('tenant', 'period', 'kind', 'subject', 'rater', name=op.f('pk_score_inputs'))
    )
    _backfill()


def _backfill() -> None:
    """Facts of cases stored before this revision (the cases service writes them from now on)."""
    conn = op.get_bind()
    meta = sa.MetaData()
    cases = sa.Table('cases', meta, autoload_with=conn)
    transitions = sa.Table('transitions', meta, autoload_with=conn)
    deadlines = sa.Table('deadlines', meta, autoload_with=conn)
    facts = sa.Table('case_facts', meta, autoload_with=conn)
    rows = conn.execute(sa.select(
        transitions.c.tenant, transitions.c.case_id, transitions.c.seq, transitions.c.at, transitions.c.actor,
        transitions.c.data, cases.c.unit_code, cases.c.handler_unit, cases.c.lead, cases.c.reported_by,
        cases.c.event_class, cases.c.ref_class, cases.c.channel, cases.c.zone, cases.c.reported_at,
    ).join(cases, sa.and_(cases.c.tenant == transitions.c.tenant, cases.c.id == transitions.c.case_id)))
    batch = []
    for r in rows:
        for fact in dict.fromkeys((r.data or {}).get('facts') or ()):
            batch.append(dict(tenant=r.tenant, case_id=r.case_id, seq=r.seq, fact=str(fact)[:32], at=r.at,
                              unit_code=r.unit_code, handler_unit=r.handler_unit, lead=r.lead, actor=r.actor,
                              reporter=r.reported_by, event_class=r.event_class, ref_class=r.ref_class,
                              channel=r.channel, zone=r.zone, reported_at=r.reported_at, closed_at=None))
        if len(batch) >= 5000:
            conn.execute(facts.insert(), batch)
            batch = []
    due = conn.execute(sa.select(
        deadlines.c.tenant, deadlines.c.case_id, deadlines.c.deadline_at, cases.c.unit_code, cases.c.handler_unit,
        cases.c.lead, cases.c.reported_by, cases.c.event_class, cases.c.ref_class, cases.c.channel, cases.c.zone,
        cases.c.reported_at, cases.c.closed_at,
    ).join(cases, sa.and_(cases.c.tenant == deadlines.c.tenant, cases.c.id == deadlines.c.case_id))
        .where(deadlines.c.kind == 'handle'))
    for r in due:
        batch.append(dict(tenant=r.tenant, case_id=r.case_id, seq=0, fact='due', at=r.deadline_at,
                          unit_code=r.unit_code, handler_unit=r.handler_unit, lead=r.lead, actor=None,
                          reporter=r.reported_by, event_class=r.event_class, ref_class=r.ref_class,
                          channel=r.channel, zone=r.zone, reported_at=r.reported_at, closed_at=r.closed_at))
    if batch:
        conn.execute(facts.insert(), batch)


def downgrade() -> None:
    op.drop_table('score_inputs')
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_tenant_case_id'))
    op.drop_table('appeals')
    with op.batch_alter_table('case_facts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_facts_tenant_fact_lead_at'))
        batch_op.drop_index(batch_op.f('ix_case_facts_tenant_fact_at_unit_code_case_id'))
    op.drop_table('case_facts')
