"""Initial schema: the whole data model of architecture.md §2.

Reviewed by hand after autogenerate: extensions and the IMMUTABLE unaccent wrapper come first,
because the edition search column and indexes are built on them. The extensions need a superuser
(the private cluster's role is one); on a managed database, create them beforehand.

Revision ID: 9722d459a119
Revises:
Create Date: 2026-11-23 13:14:49.102206
"""
import sqlalchemy as sa
from alembic import op
from geoalchemy2 import Geography
from sqlalchemy.dialects import postgresql

revision = '9722d459a119'
down_revision = None
branch_labels = None
depends_on = None


UNACCENT_WRAPPER = """
CREATE OR REPLACE FUNCTION rayons_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
RETURN public.unaccent('public.unaccent'::regdictionary, $1)
"""


def upgrade() -> None:
    for extension in ("postgis", "pg_trgm", "unaccent"):
        op.execute(f"CREATE EXTENSION IF NOT EXISTS {extension}")
    op.execute(UNACCENT_WRAPPER)
    op.create_table('edition',
    sa.Column('isbn13', sa.String(length=13), nullable=False),
    sa.Column('title', sa.Text(), server_default='', nullable=False),
    sa.Column('authors', sa.Text(), server_default='', nullable=False),
    sa.Column('publisher', sa.Text(), server_default='', nullable=False),
    sa.Column('search_vector', postgresql.TSVECTOR(), sa.Computed("setweight(to_tsvector('french'::regconfig, rayons_unaccent(coalesce(title, ''))), 'A') || setweight(to_tsvector('simple'::regconfig, rayons_unaccent(coalesce(authors, ''))), 'B') || setweight(to_tsvector('simple'::regconfig, rayons_unaccent(coalesce(publisher, ''))), 'D')", persisted=True), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("isbn13 ~ '^97[89][0-9]{10}$'", name=op.f('ck_edition_isbn13_format')),
    sa.PrimaryKeyConstraint('isbn13', name=op.f('pk_edition'))
    )
    op.create_index('ix_edition_search_vector', 'edition', ['search_vector'], unique=False, postgresql_using='gin')
    op.create_index('ix_edition_title_authors_trgm', 'edition', [sa.literal_column("rayons_unaccent(lower(title || ' ' || authors)) gin_trgm_ops")], unique=False, postgresql_using='gin')
    op.create_table('network',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f('ck_network_slug_format')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_network')),
    sa.UniqueConstraint('name', name=op.f('uq_network_name')),
    sa.UniqueConstraint('slug', name=op.f('uq_network_slug'))
    )
    op.create_geospatial_table('shop',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('slug', sa.String(length=80), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('address', sa.Text(), nullable=False),
    sa.Column('postcode', sa.String(length=16), nullable=False),
    sa.Column('city', sa.String(length=120), nullable=False),
    sa.Column('country', sa.String(length=2), nullable=False),
    sa.Column('location', Geography(geometry_type='POINT', srid=4326, dimension=2, spatial_index=False, from_text='ST_GeogFromText', name='geography', nullable=False), nullable=False),
    sa.Column('phone', sa.String(length=40), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('website', sa.String(length=500), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.Column('opening_hours', sa.Text(), nullable=False),
    sa.Column('opening_hours_weekly', postgresql.JSONB(astext_type=sa.Text()), nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('feed_format', sa.String(length=20), nullable=True),
    sa.Column('feed_encoding', sa.String(length=20), nullable=True),
    sa.Column('feed_price_unit', sa.String(length=12), server_default='euros', nullable=False),
    sa.Column('feed_pull_url', sa.Text(), nullable=True),
    sa.Column('feed_location_code', sa.String(length=80), nullable=True),
    sa.Column('api_token_hash', sa.String(length=128), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("country ~ '^[A-Z]{2}$'", name=op.f('ck_shop_country_iso2')),
    sa.CheckConstraint("feed_format IS NULL OR feed_format IN ('delimited', 'xlsx', 'onix', 'json', 'scanner')", name=op.f('ck_shop_feed_format_known')),
    sa.CheckConstraint("feed_price_unit IN ('euros', 'cents', 'thousandths')", name=op.f('ck_shop_feed_price_unit_known')),
    sa.CheckConstraint("slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'", name=op.f('ck_shop_slug_format')),
    sa.CheckConstraint('length(btrim(name)) > 0', name=op.f('ck_shop_name_not_blank')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_shop')),
    sa.UniqueConstraint('api_token_hash', name=op.f('uq_shop_api_token_hash')),
    sa.UniqueConstraint('feed_location_code', name=op.f('uq_shop_feed_location_code')),
    sa.UniqueConstraint('slug', name=op.f('uq_shop_slug'))
    )
    op.create_geospatial_index('idx_shop_location', 'shop', ['location'], unique=False, postgresql_using='gist', postgresql_ops={})
    op.create_table('staff_user',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('email', sa.String(length=254), nullable=False),
    sa.Column('password_hash', sa.String(length=200), nullable=False),
    sa.Column('role', sa.String(length=20), server_default='staff', nullable=False),
    sa.Column('active', sa.Boolean(), server_default='true', nullable=False),
    sa.Column('session_version', sa.Integer(), server_default='1', nullable=False),
    sa.Column('failed_logins', sa.Integer(), server_default='0', nullable=False),
    sa.Column('locked_until', sa.DateTime(timezone=True), nullable=True),
    sa.Column('last_login_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("left(password_hash, 10) = '$argon2id$'", name=op.f('ck_staff_user_password_argon2id')),
    sa.CheckConstraint("position('@' in email) > 1", name=op.f('ck_staff_user_email_has_at')),
    sa.CheckConstraint("role IN ('staff', 'network_admin')", name=op.f('ck_staff_user_role_known')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_user'))
    )
    op.create_index('uq_staff_user_email_lower', 'staff_user', [sa.literal_column('lower(email)')], unique=True)
    op.create_table('import_run',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('source_name', sa.Text(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('format', sa.String(length=20), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('started_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('finished_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('status', sa.String(length=20), server_default='running', nullable=False),
    sa.Column('forced', sa.Boolean(), server_default='false', nullable=False),
    sa.Column('lines_read', sa.Integer(), server_default='0', nullable=False),
    sa.Column('accepted', sa.Integer(), server_default='0', nullable=False),
    sa.Column('rejected_lines', sa.Integer(), server_default='0', nullable=False),
    sa.Column('added', sa.Integer(), server_default='0', nullable=False),
    sa.Column('changed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('zeroed', sa.Integer(), server_default='0', nullable=False),
    sa.Column('unchanged', sa.Integer(), server_default='0', nullable=False),
    sa.Column('gate', sa.String(length=40), nullable=True),
    sa.Column('gate_message', sa.Text(), nullable=True),
    sa.CheckConstraint("(status = 'running') = (finished_at IS NULL)", name=op.f('ck_import_run_finished_unless_running')),
    sa.CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name=op.f('ck_import_run_sha256_hex')),
    sa.CheckConstraint("status <> 'rejected' OR gate IS NOT NULL", name=op.f('ck_import_run_rejected_has_gate')),
    sa.CheckConstraint("status IN ('running', 'applied', 'rejected', 'failed', 'skipped_duplicate')", name=op.f('ck_import_run_status_known')),
    sa.CheckConstraint('accepted >= 0', name=op.f('ck_import_run_accepted_not_negative')),
    sa.CheckConstraint('added >= 0', name=op.f('ck_import_run_added_not_negative')),
    sa.CheckConstraint('changed >= 0', name=op.f('ck_import_run_changed_not_negative')),
    sa.CheckConstraint('lines_read >= 0', name=op.f('ck_import_run_lines_read_not_negative')),
    sa.CheckConstraint('rejected_lines >= 0', name=op.f('ck_import_run_rejected_lines_not_negative')),
    sa.CheckConstraint('unchanged >= 0', name=op.f('ck_import_run_unchanged_not_negative')),
    sa.CheckConstraint('zeroed >= 0', name=op.f('ck_import_run_zeroed_not_negative')),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_import_run_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_run'))
    )
    op.create_index('ix_import_run_applied_sha', 'import_run', ['shop_id', 'sha256'], unique=False, postgresql_where=sa.text("status = 'applied'"))
    op.create_index('ix_import_run_shop_started', 'import_run', ['shop_id', sa.literal_column('started_at DESC')], unique=False)
    op.create_table('reservation',
    sa.Column('id', sa.BigInteger(), nullable=False),
    sa.Column('code_hash', sa.LargeBinary(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('isbn13', sa.String(length=13), nullable=False),
    sa.Column('state', sa.String(length=12), server_default='held', nullable=False),
    sa.Column('expires_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('title_snapshot', sa.Text(), nullable=False),
    sa.Column('authors_snapshot', sa.Text(), nullable=False),
    sa.Column('shop_name_snapshot', sa.Text(), nullable=False),
    sa.Column('shop_address_snapshot', sa.Text(), nullable=False),
    sa.Column('customer_name', sa.String(length=200), nullable=True),
    sa.Column('customer_email', sa.String(length=254), nullable=True),
    sa.Column('customer_phone', sa.String(length=40), nullable=True),
    sa.Column('personal_data_erased_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('locale', sa.String(length=5), server_default='fr', nullable=False),
    sa.Column('idempotency_key', sa.String(length=80), nullable=True),
    sa.Column('redirected_from_shop_id', sa.Integer(), nullable=True),
    sa.Column('created_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('acted_by_staff_id', sa.Integer(), nullable=True),
    sa.Column('cancel_reason', sa.Text(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('confirmed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('declined_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('collected_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('expired_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('cancelled_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('reminder_sent_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("isbn13 ~ '^97[89][0-9]{10}$'", name=op.f('ck_reservation_isbn13_format')),
    sa.CheckConstraint("state <> 'cancelled' OR cancelled_at IS NOT NULL", name=op.f('ck_reservation_cancelled_has_cancelled_at')),
    sa.CheckConstraint("state <> 'collected' OR collected_at IS NOT NULL", name=op.f('ck_reservation_collected_has_collected_at')),
    sa.CheckConstraint("state <> 'confirmed' OR confirmed_at IS NOT NULL", name=op.f('ck_reservation_confirmed_has_confirmed_at')),
    sa.CheckConstraint("state <> 'declined' OR declined_at IS NOT NULL", name=op.f('ck_reservation_declined_has_declined_at')),
    sa.CheckConstraint("state <> 'expired' OR expired_at IS NOT NULL", name=op.f('ck_reservation_expired_has_expired_at')),
    sa.CheckConstraint("state IN ('held', 'confirmed', 'declined', 'collected', 'expired', 'cancelled')", name=op.f('ck_reservation_state_known')),
    sa.CheckConstraint('expires_at > created_at', name=op.f('ck_reservation_expires_after_creation')),
    sa.CheckConstraint('octet_length(code_hash) = 32', name=op.f('ck_reservation_code_hash_sha256')),
    sa.CheckConstraint('personal_data_erased_at IS NOT NULL OR customer_email IS NOT NULL OR customer_phone IS NOT NULL', name=op.f('ck_reservation_customer_reachable')),
    sa.CheckConstraint('redirected_from_shop_id IS NULL OR redirected_from_shop_id <> shop_id', name=op.f('ck_reservation_redirect_to_another_shop')),
    sa.ForeignKeyConstraint(['acted_by_staff_id'], ['staff_user.id'], name=op.f('fk_reservation_acted_by_staff_id_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_user.id'], name=op.f('fk_reservation_created_by_staff_id_staff_user'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['redirected_from_shop_id'], ['shop.id'], name=op.f('fk_reservation_redirected_from_shop_id_shop'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_reservation_shop_id_shop'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reservation')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_reservation_code_hash'))
    )
    op.create_index('ix_reservation_active_holds', 'reservation', ['shop_id', 'isbn13', 'expires_at'], unique=False, postgresql_where=sa.text("state IN ('held', 'confirmed')"))
    op.create_index('ix_reservation_collected', 'reservation', ['shop_id', 'isbn13', 'collected_at'], unique=False, postgresql_where=sa.text("state = 'collected'"))
    op.create_index('ix_reservation_shop_created', 'reservation', ['shop_id', sa.literal_column('created_at DESC')], unique=False)
    op.create_index('uq_reservation_idempotency_key', 'reservation', ['idempotency_key'], unique=True, postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.create_table('shop_network',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('network_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['network_id'], ['network.id'], name=op.f('fk_shop_network_network_id_network'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_shop_network_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'network_id', name=op.f('pk_shop_network'))
    )
    op.create_table('staff_shop',
    sa.Column('staff_user_id', sa.Integer(), nullable=False),
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_staff_shop_shop_id_shop'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_user_id'], ['staff_user.id'], name=op.f('fk_staff_shop_staff_user_id_staff_user'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_user_id', 'shop_id', name=op.f('pk_staff_shop'))
    )
    op.create_table('import_rejection',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('import_run_id', sa.Integer(), nullable=False),
    sa.Column('line', sa.Integer(), nullable=False),
    sa.Column('field', sa.String(length=40), nullable=False),
    sa.Column('raw_value', sa.Text(), nullable=False),
    sa.Column('reason_code', sa.String(length=40), nullable=False),
    sa.Column('message', sa.Text(), nullable=False),
    sa.CheckConstraint('line >= 0', name=op.f('ck_import_rejection_line_not_negative')),
    sa.ForeignKeyConstraint(['import_run_id'], ['import_run.id'], name=op.f('fk_import_rejection_import_run_id_import_run'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_import_rejection'))
    )
    op.create_index(op.f('ix_import_rejection_import_run_id'), 'import_rejection', ['import_run_id'], unique=False)
    op.create_table('stock_line',
    sa.Column('shop_id', sa.Integer(), nullable=False),
    sa.Column('isbn13', sa.String(length=13), nullable=False),
    sa.Column('code_kind', sa.String(length=10), nullable=False),
    sa.Column('on_hand', sa.Integer(), nullable=False),
    sa.Column('price_cents', sa.Integer(), nullable=True),
    sa.Column('exported_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('import_run_id', sa.Integer(), nullable=True),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.CheckConstraint("code_kind <> 'internal' OR left(isbn13, 1) = '2'", name=op.f('ck_stock_line_internal_codes_start_with_2')),
    sa.CheckConstraint("code_kind IN ('isbn', 'ismn', 'gtin', 'internal')", name=op.f('ck_stock_line_code_kind_known')),
    sa.CheckConstraint("isbn13 ~ '^[0-9]{13}$'", name=op.f('ck_stock_line_code_13_digits')),
    sa.CheckConstraint('on_hand >= 0', name=op.f('ck_stock_line_on_hand_not_negative')),
    sa.CheckConstraint('price_cents IS NULL OR price_cents >= 0', name=op.f('ck_stock_line_price_not_negative')),
    sa.ForeignKeyConstraint(['import_run_id'], ['import_run.id'], name=op.f('fk_stock_line_import_run_id_import_run'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['shop_id'], ['shop.id'], name=op.f('fk_stock_line_shop_id_shop'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('shop_id', 'isbn13', name=op.f('pk_stock_line'))
    )
    op.create_index(op.f('ix_stock_line_import_run_id'), 'stock_line', ['import_run_id'], unique=False)
    op.create_index('ix_stock_line_public_holders', 'stock_line', ['isbn13', 'shop_id'], unique=False, postgresql_include=['on_hand'], postgresql_where=sa.text("on_hand > 0 AND code_kind IN ('isbn', 'ismn')"))


def downgrade() -> None:
    op.drop_index('ix_stock_line_public_holders', table_name='stock_line', postgresql_include=['on_hand'], postgresql_where=sa.text("on_hand > 0 AND code_kind IN ('isbn', 'ismn')"))
    op.drop_index(op.f('ix_stock_line_import_run_id'), table_name='stock_line')
    op.drop_table('stock_line')
    op.drop_index(op.f('ix_import_rejection_import_run_id'), table_name='import_rejection')
    op.drop_table('import_rejection')
    op.drop_table('staff_shop')
    op.drop_table('shop_network')
    op.drop_index('uq_reservation_idempotency_key', table_name='reservation', postgresql_where=sa.text('idempotency_key IS NOT NULL'))
    op.drop_index('ix_reservation_shop_created', table_name='reservation')
    op.drop_index('ix_reservation_collected', table_name='reservation', postgresql_where=sa.text("state = 'collected'"))
    op.drop_index('ix_reservation_active_holds', table_name='reservation', postgresql_where=sa.text("state IN ('held', 'confirmed')"))
    op.drop_table('reservation')
    op.drop_index('ix_import_run_shop_started', table_name='import_run')
    op.drop_index('ix_import_run_applied_sha', table_name='import_run', postgresql_where=sa.text("status = 'applied'"))
    op.drop_table('import_run')
    op.drop_index('uq_staff_user_email_lower', table_name='staff_user')
    op.drop_table('staff_user')
    op.drop_geospatial_index('idx_shop_location', table_name='shop', postgresql_using='gist', column_name='location')
    op.drop_geospatial_table('shop')
    op.drop_table('network')
    op.drop_index('ix_edition_title_authors_trgm', table_name='edition', postgresql_using='gin')
    op.drop_index('ix_edition_search_vector', table_name='edition', postgresql_using='gin')
    op.drop_table('edition')
    op.execute("DROP FUNCTION rayons_unaccent(text)")
